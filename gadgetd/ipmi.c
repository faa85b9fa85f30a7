/*
 * ipmi: the IPMI-over-LAN server: a UDP socket ([ipmi] bind, port) served by one thread, the
 * protocol engine of ipmi_lan.c, and its operations on the daemon: IPMI users (their own
 * passwords, the users file's roles), the power LED, the Redfish reset queue, the boot override.
 */
#include "ipmi.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "api.h"
#include "log.h"
#include "redfish.h"
#include "secret.h"

#define LOG_PREFIX "IPMI: "

struct gd_ipmi {
	struct gd_app *app;
	struct gd_ipmi_lan *lan;
	int sock;
	int stop; /* an eventfd: the thread ends when it is written */
	pthread_t thread;
};

/* ---- the operations on the daemon ---- */

static int user_of(void *ctx, const char *name, char password[GD_IPMI_PASSWORD_MAX + 1],
                   enum gd_role *role)
{
	struct gd_app *app = ctx;
	int rc = gd_auth_user_role(app->auth, name, role);
	if (rc == 0)
		rc = gd_ipmi_users_password(app->cfg->ipmi_users, name, password);
	if (rc == -EPERM)
		GD_LOG_ERROR("%s is readable by others: no IPMI user can log in (chmod 600 it)",
		             app->cfg->ipmi_users);
	return rc < 0 ? -ENOENT : 0;
}

static int power_state(void *ctx)
{
	struct gd_app *app = ctx;
	enum gd_power_state s = app->power ? gd_power_state(app->power, NULL) : GD_POWER_UNKNOWN;
	return s == GD_POWER_ON || s == GD_POWER_SLEEPING ? 1 : s == GD_POWER_OFF ? 0 : -1;
}

static unsigned chassis_control(void *ctx, unsigned action, const char *user)
{
	static const char *const types[] = {"ForceOff",     "On", "PowerCycle",
	                                    "ForceRestart", NULL, "GracefulShutdown"};
	char who[GD_API_USER_MAX];
	snprintf(who, sizeof(who), "ipmi:%s", user);
	int rc = gd_redfish_reset_queue(ctx, types[action], who);
	return rc == 0 ? 0x00 : rc == -EBUSY ? 0xc0 : rc == -ENOTSUP ? 0xd5 : 0xff;
}

static int boot_get(void *ctx, struct gd_boot_override *out)
{
	gd_boot_get(((struct gd_app *)ctx)->boot, out);
	return 0;
}

static int boot_set(void *ctx, const struct gd_boot_override *value)
{
	return gd_boot_set(((struct gd_app *)ctx)->boot, value);
}

/* ---- the server ---- */

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void *serve(void *arg)
{
	struct gd_ipmi *ipmi = arg;
	struct pollfd fds[2] = {{.fd = ipmi->sock, .events = POLLIN},
	                        {.fd = ipmi->stop, .events = POLLIN}};
	uint8_t in[1024], out[512];
	while (poll(fds, 2, -1) >= 0 || errno == EINTR) {
		if (fds[1].revents)
			break;
		if (!(fds[0].revents & POLLIN))
			continue;
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n =
		    recvfrom(ipmi->sock, in, sizeof(in), 0, (struct sockaddr *)&from, &fromlen);
		if (n <= 0)
			continue;
		size_t reply = gd_ipmi_lan_handle(
		    ipmi->lan, in, (size_t)n, (struct sockaddr *)&from, now_ms(), out, sizeof(out));
		if (reply > 0)
			sendto(ipmi->sock, out, reply, 0, (struct sockaddr *)&from, fromlen);
	}
	OPENSSL_cleanse(in, sizeof(in));
	return NULL;
}

static int bind_udp(const char *addr, unsigned port, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_DGRAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char service[8];
	snprintf(service, sizeof(service), "%u", port);
	int rc = getaddrinfo(addr, service, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "[ipmi] bind %s: %s", addr, gai_strerror(rc));
		return -EINVAL;
	}
	int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		rc = -errno;
		snprintf(err, errlen, "[ipmi] UDP %s port %u: %s", addr, port, strerror(-rc));
		if (fd >= 0)
			close(fd);
		fd = rc;
	}
	freeaddrinfo(ai);
	return fd;
}

/* The managed system's GUID for RAKP: the machine's id, else a digest of the state dir. */
static void system_guid(const struct gd_config *cfg, uint8_t guid[16])
{
	char id[64] = "";
	FILE *f = fopen("/etc/machine-id", "re");
	if (f == NULL || fgets(id, sizeof(id), f) == NULL)
		snprintf(id, sizeof(id), "%.60s", cfg->state_dir);
	if (f != NULL)
		fclose(f);
	unsigned char digest[GD_SECRET_DIGEST];
	gd_secret_digest(id, digest);
	memcpy(guid, digest, 16);
}

int gd_ipmi_open(struct gd_ipmi **out, struct gd_app *app, char *err, size_t errlen)
{
	*out = NULL;
	const struct gd_config *cfg = app->cfg;
	if (!cfg->ipmi_enabled)
		return 0;
	struct gd_ipmi_ops ops = {.user = user_of,
	                          .power_state = power_state,
	                          .chassis_control = chassis_control,
	                          .boot_get = app->boot ? boot_get : NULL,
	                          .boot_set = app->boot ? boot_set : NULL,
	                          .ctx = app};
	uint8_t guid[16];
	system_guid(cfg, guid);
	struct gd_ipmi *ipmi = calloc(1, sizeof(*ipmi));
	if (ipmi == NULL || (ipmi->lan = gd_ipmi_lan_new(&ops, guid)) == NULL) {
		free(ipmi);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ipmi->app = app;
	ipmi->stop = eventfd(0, EFD_CLOEXEC);
	ipmi->sock = bind_udp(cfg->ipmi_bind, cfg->ipmi_port, err, errlen);
	int rc = ipmi->sock < 0 ? ipmi->sock : ipmi->stop < 0 ? -errno : 0;
	if (rc == 0 && (rc = -pthread_create(&ipmi->thread, NULL, serve, ipmi)) < 0)
		snprintf(err, errlen, "IPMI thread: %s", strerror(-rc));
	if (rc < 0) {
		if (ipmi->sock >= 0)
			close(ipmi->sock);
		if (ipmi->stop >= 0)
			close(ipmi->stop);
		gd_ipmi_lan_free(ipmi->lan);
		free(ipmi);
		return rc;
	}
	GD_LOG_INFO("IPMI over LAN (RMCP+, cipher suites 3 and 17) on UDP %s port %u",
	            cfg->ipmi_bind, cfg->ipmi_port);
	*out = ipmi;
	return 0;
}

void gd_ipmi_close(struct gd_ipmi *ipmi)
{
	if (ipmi == NULL)
		return;
	uint64_t one = 1;
	if (write(ipmi->stop, &one, sizeof(one)) != sizeof(one))
		GD_LOG_ERROR("cannot stop the IPMI thread: %s", strerror(errno));
	pthread_join(ipmi->thread, NULL);
	close(ipmi->sock);
	close(ipmi->stop);
	gd_ipmi_lan_free(ipmi->lan);
	free(ipmi);
}
