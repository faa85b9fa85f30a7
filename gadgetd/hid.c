/*
 * hid: the keyboard as the host sees it: plays programs of boot reports on the hidg device
 * (non-blocking, paced), fails fast with host_offline when the host cannot take keys, never
 * leaves a key held, and tracks the host's LED output report (Num/Caps/Scroll Lock).
 */
#include "hid.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_PREFIX "HID: "
#define REPORT_LEN 8
/* A report the host has not taken this long after the last one means it is not polling. */
#define WRITE_TIMEOUT_MS  1000
#define WATCH_INTERVAL_MS 200

struct gd_hid {
	char device[64];
	char host_state[512];
	int fd;
	pthread_mutex_t fd_lock;   /* fd may be reopened while the watcher reads it */
	pthread_mutex_t play_lock; /* held while a program plays: the watcher keeps off */
	pthread_t watcher;
	atomic_bool stopping;
	atomic_bool release_pending; /* keys may be held on the host: release when it is back */
	atomic_uint leds;
};

static const uint8_t released[REPORT_LEN];

bool gd_hid_host_online(struct gd_hid *hid)
{
	char state[32] = "";
	FILE *f = fopen(hid->host_state, "re");
	if (f == NULL)
		return false;
	if (fgets(state, sizeof(state), f) == NULL)
		state[0] = '\0';
	fclose(f);
	return strncmp(state, "configured", 10) == 0;
}

static int open_device(struct gd_hid *hid)
{
	int fd = open(hid->device, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&hid->fd_lock);
	int old = hid->fd;
	hid->fd = fd;
	pthread_mutex_unlock(&hid->fd_lock);
	if (old >= 0)
		close(old);
	return 0;
}

static int current_fd(struct gd_hid *hid)
{
	pthread_mutex_lock(&hid->fd_lock);
	int fd = hid->fd;
	pthread_mutex_unlock(&hid->fd_lock);
	return fd;
}

/* Writes one report; waits for the host to take the previous one, up to WRITE_TIMEOUT_MS. */
static int write_report(struct gd_hid *hid, const uint8_t report[REPORT_LEN])
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = current_fd(hid);
		ssize_t n = write(fd, report, REPORT_LEN);
		if (n == REPORT_LEN)
			return 0;
		if (n >= 0 || errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			int rc = poll(&p, 1, WRITE_TIMEOUT_MS);
			if (rc <= 0 || !(p.revents & POLLOUT))
				return -EHOSTDOWN;
			attempt--; /* the host took the previous report: write again */
			continue;
		}
		/* ESHUTDOWN and friends: the function was torn down and set up again under us. */
		GD_LOG_DEBUG("write: %s; reopening %s", strerror(errno), hid->device);
		if (open_device(hid) < 0)
			return -EHOSTDOWN;
	}
	return -EHOSTDOWN;
}

/* Releases every key if a failed sequence may have left some held. */
static void release_if_pending(struct gd_hid *hid)
{
	if (!atomic_load(&hid->release_pending) || pthread_mutex_trylock(&hid->play_lock) != 0)
		return;
	if (gd_hid_host_online(hid) && write(current_fd(hid), released, REPORT_LEN) == REPORT_LEN) {
		atomic_store(&hid->release_pending, false);
		GD_LOG_INFO("host is back: keys released");
	}
	pthread_mutex_unlock(&hid->play_lock);
}

static void read_leds(struct gd_hid *hid, int fd)
{
	uint8_t buf[64];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n >= 1) {
		unsigned leds = buf[n - 1]; /* the LED report is one byte; the newest one wins */
		if (atomic_exchange(&hid->leds, leds) != leds)
			GD_LOG_DEBUG("host LEDs: 0x%02x", leds);
	}
}

/* Watches the device: LED reports from the host, and the host coming back. */
static void *watch(void *arg)
{
	struct gd_hid *hid = arg;
	while (!atomic_load(&hid->stopping)) {
		int fd = current_fd(hid);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int rc = poll(&p, 1, WATCH_INTERVAL_MS);
		if (rc > 0 && (p.revents & POLLIN))
			read_leds(hid, fd);
		else if (rc > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
			usleep(WATCH_INTERVAL_MS * 1000);
		release_if_pending(hid);
	}
	return NULL;
}

int gd_hid_open(struct gd_hid **out, const char *device, const char *host_state, char *err,
                size_t errlen)
{
	struct gd_hid *hid = calloc(1, sizeof(*hid));
	if (hid == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(hid->device, sizeof(hid->device), "%s", device);
	snprintf(hid->host_state, sizeof(hid->host_state), "%s", host_state);
	hid->fd = -1;
	pthread_mutex_init(&hid->fd_lock, NULL);
	pthread_mutex_init(&hid->play_lock, NULL);
	int rc = open_device(hid);
	if (rc == 0) {
		rc = -pthread_create(&hid->watcher, NULL, watch, hid);
		if (rc < 0)
			close(hid->fd);
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", device, strerror(-rc));
		pthread_mutex_destroy(&hid->fd_lock);
		pthread_mutex_destroy(&hid->play_lock);
		free(hid);
		return rc;
	}
	*out = hid;
	return 0;
}

void gd_hid_close(struct gd_hid *hid)
{
	if (hid == NULL)
		return;
	atomic_store(&hid->stopping, true);
	pthread_join(hid->watcher, NULL);
	close(hid->fd);
	pthread_mutex_destroy(&hid->fd_lock);
	pthread_mutex_destroy(&hid->play_lock);
	free(hid);
}

uint8_t gd_hid_leds(struct gd_hid *hid)
{
	return (uint8_t)atomic_load(&hid->leds);
}

/* Sleeps MS milliseconds in short slices; returns -ECANCELED as soon as *CANCEL is set. */
static int sleep_ms(uint64_t ms, const atomic_bool *cancel)
{
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)(ms / 1000);
	end.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		if (cancel != NULL && atomic_load(cancel))
			return -ECANCELED;
		struct timespec now, step;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t left_ns =
		    (int64_t)(end.tv_sec - now.tv_sec) * 1000000000LL + (end.tv_nsec - now.tv_nsec);
		if (left_ns <= 0)
			return 0;
		int64_t slice = left_ns < 20000000LL ? left_ns : 20000000LL;
		step.tv_sec = 0;
		step.tv_nsec = (long)slice;
		nanosleep(&step, NULL);
	}
}

static uint64_t monotonic_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

static int play_action(struct gd_hid *hid, const struct gd_action *a, unsigned pacing_ms,
                       const atomic_bool *cancel, uint64_t *period_start)
{
	switch (a->kind) {
	case GD_ACT_REPORT: {
		uint8_t report[REPORT_LEN] = {a->mods, 0};
		memcpy(report + 2, a->keys, sizeof(a->keys));
		atomic_store(&hid->release_pending, true);
		int rc = write_report(hid, report);
		if (rc == 0 && memcmp(report, released, REPORT_LEN) == 0)
			atomic_store(&hid->release_pending, false);
		return rc < 0 ? rc : sleep_ms(pacing_ms, cancel);
	}
	case GD_ACT_WAIT: return sleep_ms(a->ms, cancel);
	case GD_ACT_PERIOD_START: *period_start = monotonic_ms(); return 0;
	case GD_ACT_PERIOD_END: {
		uint64_t now = monotonic_ms(), until = *period_start + a->ms;
		return until > now ? sleep_ms(until - now, cancel) : 0;
	}
	default: return -EINVAL;
	}
}

/* Whether PROG has a timed repeat ("repeat N every T"). */
static bool has_rounds(const struct gd_program *prog)
{
	for (size_t i = 0; i < prog->count; i++)
		if (prog->actions[i].kind == GD_ACT_PERIOD_START)
			return true;
	return false;
}

/*
 * The rounds of a timed repeat are what hammers a key through a power-on, while the firmware
 * resets, enumerates and only then polls the keyboard: a round the host does not take (not
 * configured, not polling) is skipped, not a failure. Such a program fails with -EHOSTDOWN
 * only if the host took none of its rounds; a report outside rounds fails it at once.
 */
struct rounds {
	bool inside;  /* between a PERIOD_START and its PERIOD_END */
	bool missed;  /* this round lost a report: its other reports are skipped */
	size_t taken; /* rounds the host took whole */
};

static int play_in_rounds(struct gd_hid *hid, const struct gd_action *a, unsigned pacing_ms,
                          const atomic_bool *cancel, uint64_t *period_start, struct rounds *r)
{
	if (a->kind == GD_ACT_PERIOD_START) {
		r->inside = true;
		r->missed = false;
	} else if (a->kind == GD_ACT_PERIOD_END) {
		r->inside = false;
		r->taken += !r->missed;
	} else if (r->inside && a->kind == GD_ACT_REPORT) {
		if (r->missed)
			return 0;
		if (!gd_hid_host_online(hid)) {
			r->missed = true;
			return 0;
		}
	}
	int rc = play_action(hid, a, pacing_ms, cancel, period_start);
	if (rc == -EHOSTDOWN && r->inside) {
		r->missed = true;
		return 0;
	}
	return rc;
}

int gd_hid_play(struct gd_hid *hid, const struct gd_program *prog, unsigned pacing_ms,
                const atomic_bool *cancel, gd_hid_progress_fn progress, void *ctx)
{
	bool rounds_in_it = has_rounds(prog);
	if (!rounds_in_it && !gd_hid_host_online(hid))
		return -EHOSTDOWN;
	pthread_mutex_lock(&hid->play_lock);
	uint64_t period_start = monotonic_ms();
	struct rounds rounds = {0};
	int rc = 0;
	for (size_t i = 0; i < prog->count && rc == 0; i++) {
		if (atomic_load(cancel))
			rc = -ECANCELED;
		else
			rc = play_in_rounds(hid, &prog->actions[i], pacing_ms, cancel,
			                    &period_start, &rounds);
		if (progress != NULL && rc == 0)
			progress(ctx, i + 1);
	}
	if (rc == 0 && rounds_in_it && rounds.taken == 0)
		rc = -EHOSTDOWN;
	if (rc < 0 && atomic_load(&hid->release_pending)) {
		/* Cancelled or cut off: let go of every key now if the host takes it, else later.
		 */
		if (gd_hid_host_online(hid) && write_report(hid, released) == 0)
			atomic_store(&hid->release_pending, false);
	}
	pthread_mutex_unlock(&hid->play_lock);
	return rc;
}
