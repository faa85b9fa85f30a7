/*
 * console_tcp: the console on a TCP port, as ser2net serves one: telnet (character mode) or
 * raw, an optional banner, an idle timeout. No authentication: loopback and SSH tunnels only.
 */
#include "console_tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "console_client.h"
#include "log.h"
#include "telnet.h"

#define LOG_PREFIX "CONSOLE-TCP: "

struct client {
	struct gd_console_tcp *server;
	int fd;
	char addr[INET6_ADDRSTRLEN + 8];
	pthread_t thread;
	bool finished; /* the thread is done: join and free */
	struct client *next;
};

struct gd_console_tcp {
	const struct gd_config *cfg;
	struct gd_console *console;
	int listen_fd;
	int wake[2];
	pthread_t listener;
	pthread_mutex_t lock;
	struct client *clients;
	unsigned count;
};

/* One client's session: the telnet/raw protocol, its subscription, its activity clock. */
struct session {
	struct client *client;
	struct gd_telnet *telnet;
	struct gd_console_sub *sub;
	struct gd_telnet_buf input;
	struct timespec active;
};

static double since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static int to_client(struct session *s, const void *data, size_t len)
{
	return gd_telnet_to_client(s->telnet, data, len);
}

/* The configured banner, "\n" in it standing for a line break. */
static void send_banner(struct session *s, const char *banner)
{
	for (const char *p = banner; *p; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			to_client(s, "\r\n", 2);
			p++;
		} else {
			to_client(s, p, 1);
		}
	}
	if (banner[0])
		to_client(s, "\r\n", 2);
}

/* Moves console output into the client's queue while it is short. */
static void pull_output(struct session *s)
{
	uint8_t buf[16384];
	while (gd_telnet_output(s->telnet)->len < GD_CONSOLE_CLIENT_QUEUE) {
		size_t n = gd_console_client_read(s->sub, buf, sizeof(buf));
		if (n == 0)
			return;
		to_client(s, buf, n);
		clock_gettime(CLOCK_MONOTONIC, &s->active);
	}
}

/* Bytes from the client: telnet commands answered, the rest written to the console. */
static int take_input(struct session *s)
{
	uint8_t buf[4096];
	ssize_t n = recv(s->client->fd, buf, sizeof(buf), 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (n < 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &s->active);
	if (gd_telnet_from_client(s->telnet, buf, (size_t)n, &s->input) < 0)
		return -1;
	if (s->input.len == 0)
		return 0;
	ssize_t rc = gd_console_write(s->client->server->console, s->input.data, s->input.len);
	s->input.len = 0;
	if (rc < 0) {
		char note[160];
		size_t len = gd_console_write_notice(note, sizeof(note), rc);
		to_client(s, note, len);
	}
	return 0;
}

static int send_output(struct session *s)
{
	struct gd_telnet_buf *out = gd_telnet_output(s->telnet);
	ssize_t n = send(s->client->fd, out->data, out->len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	gd_telnet_buf_consume(out, (size_t)n);
	return 0;
}

/* Milliseconds until the idle timeout, or -1 without one. */
static int idle_left_ms(const struct session *s, unsigned idle_timeout)
{
	if (idle_timeout == 0)
		return -1;
	double left = (double)idle_timeout - since(&s->active);
	return left > 0 ? (int)(left * 1000) + 1 : 0;
}

static void serve(struct session *s)
{
	const struct gd_config *cfg = s->client->server->cfg;
	struct gd_console *console = s->client->server->console;
	for (;;) {
		pull_output(s);
		struct gd_telnet_buf *out = gd_telnet_output(s->telnet);
		struct pollfd p[2] = {
		    {.fd = s->client->fd, .events = POLLIN | (out->len ? POLLOUT : 0)},
		    {.fd = gd_console_sub_fd(s->sub), .events = POLLIN}};
		int ready = poll(p, out->len < GD_CONSOLE_CLIENT_QUEUE ? 2 : 1,
		                 idle_left_ms(s, cfg->console_idle_timeout));
		if (ready < 0 && errno != EINTR)
			return;
		if (gd_console_closing(console))
			return;
		if (ready == 0) {
			char note[96];
			size_t len = gd_console_notice(note, sizeof(note), "idle for %u s; closing",
			                               cfg->console_idle_timeout);
			to_client(s, note, len);
			send_output(s);
			GD_LOG_INFO("%s idle for %u s: closed", s->client->addr,
			            cfg->console_idle_timeout);
			return;
		}
		if ((p[0].revents & POLLOUT) && send_output(s) < 0)
			return;
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && take_input(s) < 0)
			return;
	}
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	const struct gd_config *cfg = c->server->cfg;
	struct session s = {.client = c};
	clock_gettime(CLOCK_MONOTONIC, &s.active);
	s.sub = gd_console_subscribe(c->server->console, GD_CONSOLE_TCP);
	s.telnet = gd_telnet_new(cfg->console_telnet);
	if (s.sub && s.telnet) {
		GD_LOG_INFO("%s connected", c->addr);
		send_banner(&s, cfg->console_banner);
		serve(&s);
		GD_LOG_INFO("%s disconnected", c->addr);
	} else {
		GD_LOG_ERROR("%s: out of memory", c->addr);
	}
	gd_telnet_buf_free(&s.input);
	gd_telnet_free(s.telnet);
	gd_console_unsubscribe(s.sub);
	shutdown(c->fd, SHUT_RDWR); /* the client sees the end now; the fd is closed when reaped */
	pthread_mutex_lock(&c->server->lock);
	c->finished = true;
	pthread_mutex_unlock(&c->server->lock);
	return NULL;
}

/* Joins and frees the clients whose threads ended; with ALL, every client. */
static void reap(struct gd_console_tcp *t, bool all)
{
	pthread_mutex_lock(&t->lock);
	struct client **p = &t->clients;
	while (*p) {
		struct client *c = *p;
		if (!c->finished && !all) {
			p = &c->next;
			continue;
		}
		*p = c->next;
		t->count--;
		pthread_mutex_unlock(&t->lock);
		if (all)
			shutdown(c->fd, SHUT_RDWR);
		pthread_join(c->thread, NULL);
		close(c->fd);
		free(c);
		pthread_mutex_lock(&t->lock);
		p = &t->clients;
	}
	pthread_mutex_unlock(&t->lock);
}

static void peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
		port = ntohs(v4->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
		port = ntohs(v6->sin6_port);
	}
	snprintf(buf, len, "%s:%u", host, port);
}

static void refuse(int fd, unsigned max)
{
	char note[96];
	size_t len = gd_console_notice(note, sizeof(note), "%u clients are connected already", max);
	if (send(fd, note, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		GD_LOG_DEBUG("refusing a client: %s", strerror(errno));
	close(fd);
}

static void accept_client(struct gd_console_tcp *t)
{
	int fd = accept4(t->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	reap(t, false);
	pthread_mutex_lock(&t->lock);
	unsigned count = t->count;
	pthread_mutex_unlock(&t->lock);
	struct client *c = count < t->cfg->console_tcp_clients ? calloc(1, sizeof(*c)) : NULL;
	if (c == NULL) {
		GD_LOG_WARN("client refused: %u connected already", count);
		refuse(fd, t->cfg->console_tcp_clients);
		return;
	}
	c->server = t;
	c->fd = fd;
	peer_name(fd, c->addr, sizeof(c->addr));
	pthread_mutex_lock(&t->lock);
	int rc = pthread_create(&c->thread, NULL, client_main, c);
	if (rc == 0) {
		c->next = t->clients;
		t->clients = c;
		t->count++;
	}
	pthread_mutex_unlock(&t->lock);
	if (rc != 0) {
		GD_LOG_ERROR("cannot start a client thread: %s", strerror(rc));
		close(fd);
		free(c);
	}
}

static void *listener_main(void *arg)
{
	struct gd_console_tcp *t = arg;
	for (;;) {
		struct pollfd p[2] = {{.fd = t->listen_fd, .events = POLLIN},
		                      {.fd = t->wake[0], .events = POLLIN}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents)
			accept_client(t);
	}
	return NULL;
}

static int listen_on(const struct gd_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, cfg->console_tcp_bind, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)cfg->console_tcp_port);
		sl = sizeof(*v4);
	} else {
		inet_pton(AF_INET6, cfg->console_tcp_bind, &v6->sin6_addr);
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)cfg->console_tcp_port);
		sl = sizeof(*v6);
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 8) < 0) {
		int e = errno;
		snprintf(err, errlen, "console: cannot listen on %s port %u: %s",
		         cfg->console_tcp_bind, cfg->console_tcp_port, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

static bool loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

int gd_console_tcp_start(struct gd_console_tcp **out, const struct gd_config *cfg,
                         struct gd_console *console, char *err, size_t errlen)
{
	struct gd_console_tcp *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->cfg = cfg;
	t->console = console;
	t->wake[0] = t->wake[1] = -1;
	t->listen_fd = listen_on(cfg, err, errlen);
	int rc = t->listen_fd < 0 ? t->listen_fd : 0;
	if (rc == 0 && pipe2(t->wake, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(errno));
	}
	pthread_mutex_init(&t->lock, NULL);
	if (rc == 0 && (rc = -pthread_create(&t->listener, NULL, listener_main, t)) < 0)
		snprintf(err, errlen, "cannot start the console listener: %s", strerror(-rc));
	if (rc < 0) {
		if (t->listen_fd >= 0)
			close(t->listen_fd);
		if (t->wake[0] >= 0) {
			close(t->wake[0]);
			close(t->wake[1]);
		}
		pthread_mutex_destroy(&t->lock);
		free(t);
		return rc;
	}
	GD_LOG_INFO("console on %s port %u (%s)", cfg->console_tcp_bind, cfg->console_tcp_port,
	            cfg->console_telnet ? "telnet" : "raw");
	if (!loopback(cfg->console_tcp_bind))
		GD_LOG_WARN("the console's TCP port has no authentication and is not on loopback");
	*out = t;
	return 0;
}

void gd_console_tcp_stop(struct gd_console_tcp *t)
{
	if (t == NULL)
		return;
	if (write(t->wake[1], "x", 1) < 0)
		GD_LOG_ERROR("stopping the listener: %s", strerror(errno));
	pthread_join(t->listener, NULL);
	close(t->listen_fd);
	close(t->wake[0]);
	close(t->wake[1]);
	reap(t, true);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
