/*
 * console_ws: the console over WebSocket sessions (the browser terminal): recent output
 * replayed on connect, then the live stream both ways, pings to find dead peers.
 */
#include "console_ws.h"

#include <errno.h>
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
#include "ws.h"

#define LOG_PREFIX "CONSOLE-WS: "

#define MAX_MESSAGE   ((size_t)64 << 10) /* from the client: typing and pastes */
#define PING_MS       20000              /* a ping after this long without a frame from the peer */
#define DEAD_MS       60000              /* then gone after this long */
#define CLOSE_WAIT_MS 2000               /* for the peer's close frame */

struct session {
	struct gd_console_ws *owner;
	int sock;
	struct gd_console_sub *sub;
	struct gd_ws *ws;
	char user[64];
	bool read_only;
	uint64_t replay;
	gd_console_ws_done done;
	void *done_arg;
	struct session *next;
};

struct gd_console_ws {
	struct gd_console *console;
	pthread_mutex_t lock;
	pthread_cond_t ended;
	struct session *sessions;
	bool stopped; /* no new sessions */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_message(void *ctx, const uint8_t *data, size_t len)
{
	struct session *s = ctx;
	char note[160];
	if (s->read_only) {
		size_t n = gd_console_notice(note, sizeof(note), "%s may watch, not type", s->user);
		gd_ws_send(s->ws, note, n);
		return;
	}
	ssize_t rc = gd_console_write(s->owner->console, data, len);
	if (rc >= 0)
		return;
	size_t n = gd_console_write_notice(note, sizeof(note), rc);
	gd_ws_send(s->ws, note, n);
}

/* Moves console output into the session's queue while it is short. */
static int pull_output(struct session *s)
{
	uint8_t buf[16384];
	while (gd_ws_queued(s->ws) < GD_CONSOLE_CLIENT_QUEUE) {
		size_t n = gd_console_client_read(s->sub, buf, sizeof(buf));
		if (n == 0)
			return 0;
		if (gd_ws_send(s->ws, buf, n) < 0)
			return -1;
	}
	return 0;
}

static void keep_alive(struct session *s, uint64_t *pinged)
{
	uint64_t quiet = mono_ms() - gd_ws_last_seen_ms(s->ws);
	if (quiet >= DEAD_MS) {
		GD_LOG_INFO("%s: no answer for %llu s; closing", s->user,
		            (unsigned long long)(quiet / 1000));
		gd_ws_close(s->ws, 1001, "no answer to pings");
	} else if (quiet >= PING_MS && mono_ms() - *pinged >= PING_MS) {
		gd_ws_ping(s->ws, "gadgetd", 7);
		*pinged = mono_ms();
	}
}

static void serve(struct session *s)
{
	uint64_t pinged = 0, closing_since = 0;
	if (gd_ws_read(s->ws) < 0) /* what came with the handshake */
		return;
	while (!gd_ws_done(s->ws)) {
		if (closing_since == 0 && gd_console_closing(s->owner->console)) {
			gd_ws_close(s->ws, 1001, "gadgetd is stopping");
			closing_since = mono_ms();
		}
		if (closing_since && mono_ms() - closing_since > CLOSE_WAIT_MS)
			return;
		if (closing_since == 0 && pull_output(s) < 0)
			return;
		if (gd_ws_flush(s->ws) < 0)
			return;
		struct pollfd p[2] = {
		    {.fd = s->sock, .events = POLLIN | (gd_ws_want_write(s->ws) ? POLLOUT : 0)},
		    {.fd = gd_console_sub_fd(s->sub), .events = POLLIN}};
		bool room = gd_ws_queued(s->ws) < GD_CONSOLE_CLIENT_QUEUE && closing_since == 0;
		if (poll(p, room ? 2 : 1, 1000) < 0 && errno != EINTR)
			return;
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && gd_ws_read(s->ws) < 0)
			return;
		keep_alive(s, &pinged);
	}
}

/* The close frame sent, the client's last bytes are read before the socket goes: closing over
 * unread data would reset the connection, and the client might lose the close frame. */
static void drain(int sock)
{
	shutdown(sock, SHUT_WR);
	uint8_t buf[4096];
	uint64_t until = mono_ms() + CLOSE_WAIT_MS / 2;
	for (uint64_t now = mono_ms(); now < until; now = mono_ms()) {
		struct pollfd p = {.fd = sock, .events = POLLIN};
		if (poll(&p, 1, (int)(until - now)) <= 0 || read(sock, buf, sizeof(buf)) <= 0)
			return;
	}
}

static void *session_main(void *arg)
{
	struct session *s = arg;
	GD_LOG_INFO("%s connected", s->user);
	serve(s);
	drain(s->sock);
	GD_LOG_INFO("%s disconnected", s->user);
	s->done(s->done_arg); /* the socket is closed from here on */
	struct gd_console_ws *owner = s->owner;
	pthread_mutex_lock(&owner->lock);
	for (struct session **p = &owner->sessions; *p; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			break;
		}
	}
	gd_ws_free(s->ws);
	gd_console_unsubscribe(s->sub);
	free(s);
	pthread_cond_broadcast(&owner->ended);
	pthread_mutex_unlock(&owner->lock);
	return NULL;
}

struct gd_console_ws *gd_console_ws_new(struct gd_console *console)
{
	struct gd_console_ws *ws = calloc(1, sizeof(*ws));
	if (ws == NULL)
		return NULL;
	ws->console = console;
	pthread_mutex_init(&ws->lock, NULL);
	pthread_cond_init(&ws->ended, NULL);
	return ws;
}

static struct session *session_new(struct gd_console_ws *owner, int sock, const void *extra,
                                   size_t extra_len, uint64_t replay)
{
	struct session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->owner = owner;
	s->sock = sock;
	s->sub = gd_console_subscribe(owner->console, GD_CONSOLE_WS);
	s->ws = gd_ws_new(sock, MAX_MESSAGE, on_message, s);
	if (s->sub == NULL || s->ws == NULL ||
	    (extra_len && gd_ws_preload(s->ws, extra, extra_len) < 0)) {
		gd_ws_free(s->ws);
		gd_console_unsubscribe(s->sub);
		free(s);
		return NULL;
	}
	uint64_t *offset = gd_console_sub_offset(s->sub);
	*offset = *offset > replay ? *offset - replay : 0;
	return s;
}

int gd_console_ws_start(struct gd_console_ws *ws, int sock, const void *extra, size_t extra_len,
                        uint64_t replay, const char *user, bool read_only, gd_console_ws_done done,
                        void *arg)
{
	struct session *s = session_new(ws, sock, extra, extra_len, replay);
	if (s == NULL)
		return -ENOMEM;
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->read_only = read_only;
	s->done = done;
	s->done_arg = arg;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, (size_t)256 << 10);
	pthread_t thread;
	pthread_mutex_lock(&ws->lock);
	int rc = ws->stopped ? ESHUTDOWN : pthread_create(&thread, &attr, session_main, s);
	if (rc == 0) {
		s->next = ws->sessions;
		ws->sessions = s;
	}
	pthread_mutex_unlock(&ws->lock);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		gd_ws_free(s->ws);
		gd_console_unsubscribe(s->sub);
		free(s);
		return -rc;
	}
	return 0;
}

void gd_console_ws_stop(struct gd_console_ws *ws)
{
	if (ws == NULL)
		return;
	pthread_mutex_lock(&ws->lock);
	ws->stopped = true;
	while (ws->sessions)
		pthread_cond_wait(&ws->ended, &ws->lock);
	pthread_mutex_unlock(&ws->lock);
}

void gd_console_ws_free(struct gd_console_ws *ws)
{
	if (ws == NULL)
		return;
	gd_console_ws_stop(ws);
	pthread_cond_destroy(&ws->ended);
	pthread_mutex_destroy(&ws->lock);
	free(ws);
}
