/*
 * console: the server's serial console (the gadget's ACM port, /dev/ttyGSn): read without pause
 * into a ring buffer and a log file, reopened by itself when the host hangs it up; serialized
 * writes; subscribers that are woken by new output; waiting for a pattern (expect).
 */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "conslog.h"
#include "log.h"
#include "ring.h"

#define LOG_PREFIX "CONSOLE: "

#define RETRY_MS      500   /* between attempts to open a port that is not there */
#define READ_CHUNK    65536 /* one read from the port */
#define EXPECT_WINDOW 65536 /* the output expect keeps to match against */

struct gd_console_sub {
	struct gd_console *console;
	enum gd_console_client kind;
	int efd;
	uint64_t offset;
	struct gd_console_sub *next;
};

struct gd_console {
	pthread_mutex_t lock;  /* ring, subs, state; never held across I/O on the port */
	pthread_cond_t output; /* broadcast on output and on interrupt */
	struct gd_ring ring;
	struct gd_console_sub *subs;
	bool closing;
	uint64_t reopens;
	int log_error;

	/* Held by a writer for its whole write, and by the reader to swap the port's fd. */
	pthread_mutex_t write_lock;
	int fd;
	unsigned write_timeout_ms;

	struct gd_conslog *log;
	char tty[64];
	int wake[2]; /* the reader's stop signal */
	pthread_t reader;
	uint8_t buf[READ_CHUNK];
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Raw: no echo, no line editing, no CR/NL translation, no XON/XOFF; 8 bits pass unchanged. */
static int open_port(const char *tty)
{
	int fd = open(tty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct termios t;
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		t.c_cflag |= CLOCAL | CREAD;
		t.c_cflag &= ~(tcflag_t)CRTSCTS;
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		if (tcsetattr(fd, TCSANOW, &t) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
	}
	return fd;
}

static void set_port(struct gd_console *c, int fd)
{
	pthread_mutex_lock(&c->write_lock);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = fd;
	pthread_mutex_unlock(&c->write_lock);
}

static void notify(struct gd_console *c)
{
	uint64_t one = 1;
	for (struct gd_console_sub *s = c->subs; s; s = s->next)
		if (write(s->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			GD_LOG_DEBUG("waking a client: %s", strerror(errno));
	pthread_cond_broadcast(&c->output);
}

static void take_output(struct gd_console *c, const uint8_t *data, size_t len)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int rc = gd_conslog_write(c->log, data, len, &now);
	pthread_mutex_lock(&c->lock);
	if (rc < 0 && c->log_error == 0)
		GD_LOG_ERROR("console log %s: %s; output goes on to clients only",
		             gd_conslog_path(c->log), strerror(-rc));
	else if (rc == 0 && c->log_error < 0)
		GD_LOG_INFO("console log %s is written again", gd_conslog_path(c->log));
	c->log_error = rc;
	gd_ring_write(&c->ring, data, len);
	notify(c);
	pthread_mutex_unlock(&c->lock);
}

/* Waits for the stop signal up to MS: whether it came. */
static bool stop_requested(struct gd_console *c, int ms)
{
	struct pollfd p = {.fd = c->wake[0], .events = POLLIN};
	return poll(&p, 1, ms) > 0;
}

/* Opens the port, retrying until it is there or the daemon stops. Returns its fd or -1. */
static int reopen(struct gd_console *c, bool first)
{
	int last = 0;
	for (;;) {
		int fd = open_port(c->tty);
		if (fd >= 0) {
			GD_LOG_INFO("%s open%s", c->tty, first ? "" : "ed again");
			return fd;
		}
		if (fd != last)
			GD_LOG_WARN("cannot open %s: %s; retrying every %d ms", c->tty,
			            strerror(-fd), RETRY_MS);
		last = fd;
		if (stop_requested(c, RETRY_MS))
			return -1;
	}
}

/*
 * Reads until the host hangs the port up (EOF or EIO: a USB disconnect, the gadget unbound),
 * then reopens it: the log and the ring buffer go on across it.
 */
static void *reader_main(void *arg)
{
	struct gd_console *c = arg;
	int fd = reopen(c, true);
	set_port(c, fd);
	while (fd >= 0) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
		                      {.fd = c->wake[0], .events = POLLIN}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents == 0)
			continue;
		ssize_t n = read(fd, c->buf, sizeof(c->buf));
		if (n > 0) {
			take_output(c, c->buf, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		GD_LOG_WARN("%s hung up (%s); reopening", c->tty,
		            n == 0 ? "end of file" : strerror(errno));
		set_port(c, -1);
		pthread_mutex_lock(&c->lock);
		c->reopens++;
		pthread_mutex_unlock(&c->lock);
		fd = reopen(c, false);
		set_port(c, fd);
	}
	set_port(c, -1);
	return NULL;
}

int gd_console_open(struct gd_console **out, const struct gd_config *cfg, const char *tty,
                    const char *log_path, char *err, size_t errlen)
{
	struct gd_console *c = calloc(1, sizeof(*c));
	if (c == NULL || gd_ring_init(&c->ring, cfg->console_buffer) < 0) {
		free(c);
		snprintf(err, errlen, "out of memory for the console buffer");
		return -ENOMEM;
	}
	c->fd = -1;
	c->wake[0] = c->wake[1] = -1;
	c->write_timeout_ms = cfg->console_write_timeout_ms;
	snprintf(c->tty, sizeof(c->tty), "%s", tty);
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->write_lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* deadline_after()'s clock */
	pthread_cond_init(&c->output, &attr);
	pthread_condattr_destroy(&attr);
	int rc = gd_conslog_open(&c->log, log_path, cfg->console_log_size, cfg->console_log_files,
	                         err, errlen);
	if (rc == 0 && pipe2(c->wake, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(errno));
	}
	if (rc == 0 && (rc = -pthread_create(&c->reader, NULL, reader_main, c)) < 0)
		snprintf(err, errlen, "cannot start the console reader: %s", strerror(-rc));
	if (rc < 0) {
		gd_conslog_close(c->log);
		if (c->wake[0] >= 0) {
			close(c->wake[0]);
			close(c->wake[1]);
		}
		gd_ring_free(&c->ring);
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void gd_console_interrupt(struct gd_console *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->closing = true;
	notify(c);
	pthread_mutex_unlock(&c->lock);
}

bool gd_console_closing(struct gd_console *c)
{
	pthread_mutex_lock(&c->lock);
	bool closing = c->closing;
	pthread_mutex_unlock(&c->lock);
	return closing;
}

void gd_console_close(struct gd_console *c)
{
	if (c == NULL)
		return;
	gd_console_interrupt(c);
	if (write(c->wake[1], "x", 1) < 0)
		GD_LOG_ERROR("stopping the reader: %s", strerror(errno));
	pthread_join(c->reader, NULL);
	close(c->wake[0]);
	close(c->wake[1]);
	gd_conslog_close(c->log);
	gd_ring_free(&c->ring);
	pthread_cond_destroy(&c->output);
	pthread_mutex_destroy(&c->write_lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void gd_console_get_status(struct gd_console *c, struct gd_console_status *st)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->tty, sizeof(st->tty), "%s", c->tty);
	pthread_mutex_lock(&c->write_lock);
	st->open = c->fd >= 0;
	pthread_mutex_unlock(&c->write_lock);
	pthread_mutex_lock(&c->lock);
	st->next = c->ring.end;
	st->start = gd_ring_start(&c->ring);
	st->reopens = c->reopens;
	st->log_error = c->log_error;
	for (struct gd_console_sub *s = c->subs; s; s = s->next)
		st->clients[s->kind]++;
	pthread_mutex_unlock(&c->lock);
}

const char *gd_console_log_path(struct gd_console *c)
{
	return gd_conslog_path(c->log);
}

void gd_console_log_part(struct gd_console *c, unsigned n, char *buf, size_t len)
{
	gd_conslog_part_path(c->log, n, buf, len);
}

unsigned gd_console_log_keep(struct gd_console *c)
{
	return gd_conslog_keep(c->log);
}

/* Waits for the port to take more, up to DEADLINE: 0, or -ETIMEDOUT. */
static int wait_writable(int fd, int64_t deadline)
{
	int64_t left = deadline - now_ms();
	if (left <= 0)
		return -ETIMEDOUT;
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int n = poll(&p, 1, (int)left);
	return n > 0 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

ssize_t gd_console_write(struct gd_console *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t done = 0;
	int rc = 0;
	int64_t deadline = now_ms() + c->write_timeout_ms;
	pthread_mutex_lock(&c->write_lock);
	if (c->fd < 0)
		rc = -ENOTCONN;
	while (rc == 0 && done < len) {
		ssize_t n = write(c->fd, p + done, len - done);
		if (n > 0)
			done += (size_t)n;
		else if (n < 0 && (errno == EAGAIN || errno == EINTR))
			rc = wait_writable(c->fd, deadline);
		else
			rc = n < 0 ? -errno : -EIO;
		if (rc == -EINTR)
			rc = 0;
	}
	pthread_mutex_unlock(&c->write_lock);
	return done > 0 ? (ssize_t)done : rc;
}

size_t gd_console_read(struct gd_console *c, uint64_t *offset, void *buf, size_t max,
                       uint64_t *lost)
{
	pthread_mutex_lock(&c->lock);
	size_t n = gd_ring_read(&c->ring, offset, buf, max, lost);
	pthread_mutex_unlock(&c->lock);
	return n;
}

static struct timespec deadline_after(int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/* With C->lock held. */
static int wait_locked(struct gd_console *c, uint64_t offset, const struct timespec *deadline)
{
	while (c->ring.end <= offset && !c->closing)
		if (pthread_cond_timedwait(&c->output, &c->lock, deadline) == ETIMEDOUT)
			break;
	return c->closing ? -ECANCELED : c->ring.end > offset ? 0 : -ETIMEDOUT;
}

int gd_console_wait(struct gd_console *c, uint64_t offset, int timeout_ms)
{
	struct timespec deadline = deadline_after(timeout_ms);
	pthread_mutex_lock(&c->lock);
	int rc = wait_locked(c, offset, &deadline);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

struct gd_console_sub *gd_console_subscribe(struct gd_console *c, enum gd_console_client kind)
{
	struct gd_console_sub *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0) {
		free(s);
		return NULL;
	}
	s->console = c;
	s->kind = kind;
	pthread_mutex_lock(&c->lock);
	s->offset = c->ring.end;
	s->next = c->subs;
	c->subs = s;
	pthread_mutex_unlock(&c->lock);
	return s;
}

void gd_console_unsubscribe(struct gd_console_sub *sub)
{
	if (sub == NULL)
		return;
	struct gd_console *c = sub->console;
	pthread_mutex_lock(&c->lock);
	for (struct gd_console_sub **p = &c->subs; *p; p = &(*p)->next) {
		if (*p == sub) {
			*p = sub->next;
			break;
		}
	}
	pthread_cond_broadcast(&c->output);
	pthread_mutex_unlock(&c->lock);
	close(sub->efd);
	free(sub);
}

int gd_console_sub_fd(const struct gd_console_sub *sub)
{
	return sub->efd;
}

uint64_t *gd_console_sub_offset(struct gd_console_sub *sub)
{
	return &sub->offset;
}

size_t gd_console_sub_read(struct gd_console_sub *sub, void *buf, size_t max, uint64_t *lost)
{
	uint64_t count;
	if (read(sub->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		GD_LOG_DEBUG("client wakeup: %s", strerror(errno));
	return gd_console_read(sub->console, &sub->offset, buf, max, lost);
}

/* The window expect matches against: the output since SINCE, its oldest EXPECT_WINDOW bytes. */
struct window {
	char text[EXPECT_WINDOW + 1];
	size_t len;
	uint64_t start;   /* the offset of text[0] */
	size_t scan_from; /* a line start: what is before it was matched already */
};

/*
 * Drops what was matched already (the lines before SCAN_FROM: a match lies within a line); of
 * a line longer than half the window, only its tail is kept.
 */
static void window_make_room(struct window *w)
{
	size_t drop = w->scan_from;
	if (w->len - drop > EXPECT_WINDOW / 2)
		drop = w->len - EXPECT_WINDOW / 2;
	memmove(w->text, w->text + drop, w->len - drop);
	w->len -= drop;
	w->start += drop;
	w->scan_from = w->scan_from > drop ? w->scan_from - drop : 0;
}

static bool window_match(struct window *w, const regex_t *re, struct gd_console_match *m)
{
	regmatch_t rm;
	w->text[w->len] = '\0';
	if (regexec(re, w->text + w->scan_from, 1, &rm, 0) == 0) {
		size_t s = w->scan_from + (size_t)rm.rm_so, e = w->scan_from + (size_t)rm.rm_eo;
		m->start = w->start + s;
		m->end = w->start + e;
		size_t n = e - s < sizeof(m->text) - 1 ? e - s : sizeof(m->text) - 1;
		memcpy(m->text, w->text + s, n);
		m->text[n] = '\0';
		return true;
	}
	/* An unfinished line is matched again as it grows. */
	const char *nl = memrchr(w->text + w->scan_from, '\n', w->len - w->scan_from);
	if (nl)
		w->scan_from = (size_t)(nl - w->text) + 1;
	return false;
}

/* With the console's lock held. */
static void window_append(struct gd_console *c, struct window *w, uint64_t *offset)
{
	uint64_t lost;
	if (*offset < gd_ring_start(&c->ring)) {
		/* More than the ring holds arrived in one wait: match on what is left. */
		*offset = gd_ring_start(&c->ring);
		w->len = w->scan_from = 0;
		w->start = *offset;
	}
	window_make_room(w);
	size_t n = gd_ring_read(&c->ring, offset, w->text + w->len, EXPECT_WINDOW - w->len, &lost);
	/* NUL would end the text for regexec: console output may carry it. */
	for (size_t i = 0; i < n; i++)
		if (w->text[w->len + i] == '\0')
			w->text[w->len + i] = '\x01';
	w->len += n;
}

int gd_console_expect(struct gd_console *c, const regex_t *re, uint64_t since, int timeout_ms,
                      struct gd_console_match *m)
{
	struct window *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	struct timespec deadline = deadline_after(timeout_ms);
	uint64_t offset = since;
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	w->start = offset;
	for (;;) {
		while (offset < c->ring.end)
			window_append(c, w, &offset);
		if (window_match(w, re, m))
			break;
		rc = wait_locked(c, offset, &deadline);
		if (rc < 0)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	free(w);
	return rc;
}
