/*
 * power: the server's ATX buttons and power LED: actions (on, off, force-off, reset, cycle,
 * press, long-press) decided from the LED's state, one at a time, never a press at start.
 * The lines are behind a small table of operations (power_gpio.c drives them with libgpiod;
 * tests use a fake).
 */
#include "power.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define LOG_PREFIX "POWER: "
#define EDGES      8
/* The LED of a sleeping server blinks: edges closer than this make it "sleeping". */
#define BLINK_WINDOW_S 2.5
/* The LED coming on after this long dark is a start (a blinking sleep LED is dark for less). */
#define START_DARK_S 1.25
/* A button released is left alone this long before its next press: hosts and front panels
 * debounce, and two actions back to back must not merge into one long press. */
#define RELEASE_GAP_MS 250

enum action { ACT_ON, ACT_OFF, ACT_FORCE_OFF, ACT_RESET, ACT_CYCLE, ACT_PRESS, ACT_LONG_PRESS };
static const char *const action_names[] = {"on",    "off",   "force-off", "reset",
                                           "cycle", "press", "long-press"};

struct gd_power {
	struct gd_power_io io;
	struct gd_power_timing timing;
	pthread_mutex_t lock; /* the LED history */
	pthread_cond_t led_changed;
	pthread_mutex_t busy; /* held by the action running */
	bool lit;
	bool seen_led;
	double edges[EDGES]; /* the last edges, newest at edges[0] */
	double changed_at;
	double released_at; /* when a button was last let go; only the action running reads it */
	gd_power_start_fn on_start;
	void *on_start_ctx;
};

static double seconds(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return seconds(&t);
}

struct gd_power *gd_power_new(const struct gd_power_io *io, const struct gd_power_timing *timing)
{
	struct gd_power *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->io = *io;
	p->timing = *timing;
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->busy, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->led_changed, &attr);
	pthread_condattr_destroy(&attr);
	p->changed_at = now_s();
	return p;
}

void gd_power_free(struct gd_power *power)
{
	if (power == NULL)
		return;
	pthread_cond_destroy(&power->led_changed);
	pthread_mutex_destroy(&power->busy);
	pthread_mutex_destroy(&power->lock);
	free(power);
}

void gd_power_on_start(struct gd_power *power, gd_power_start_fn fn, void *ctx)
{
	pthread_mutex_lock(&power->lock);
	power->on_start = fn;
	power->on_start_ctx = ctx;
	pthread_mutex_unlock(&power->lock);
}

/* Tells the start hook, if any, that the server's firmware is starting. */
static void started(struct gd_power *power)
{
	pthread_mutex_lock(&power->lock);
	gd_power_start_fn fn = power->on_start;
	void *ctx = power->on_start_ctx;
	pthread_mutex_unlock(&power->lock);
	if (fn != NULL)
		fn(ctx);
}

void gd_power_led(struct gd_power *power, bool lit, const struct timespec *at)
{
	bool start = false;
	pthread_mutex_lock(&power->lock);
	if (!power->seen_led || lit != power->lit) {
		start = power->seen_led && lit && seconds(at) - power->changed_at >= START_DARK_S;
		if (power->seen_led) {
			memmove(power->edges + 1, power->edges,
			        sizeof(power->edges) - sizeof(double));
			power->edges[0] = seconds(at);
		}
		power->lit = lit;
		power->seen_led = true;
		power->changed_at = seconds(at);
		pthread_cond_broadcast(&power->led_changed);
	}
	pthread_mutex_unlock(&power->lock);
	if (start)
		started(power);
}

/* Caller holds the lock. */
static enum gd_power_state state_locked(struct gd_power *p, double now, double *since)
{
	*since = p->changed_at;
	if (!p->io.has_led || !p->seen_led)
		return GD_POWER_UNKNOWN;
	/* Three edges close together, the last one recent: blinking (two are a quick on-off). */
	double gap = BLINK_WINDOW_S / 2;
	if (p->edges[2] > 0 && now - p->edges[0] < gap && p->edges[0] - p->edges[1] < gap &&
	    p->edges[1] - p->edges[2] < gap) {
		size_t first = 1;
		while (first + 1 < EDGES && p->edges[first + 1] > 0 &&
		       p->edges[first] - p->edges[first + 1] < BLINK_WINDOW_S / 2)
			first++;
		*since = p->edges[first];
		return GD_POWER_SLEEPING;
	}
	return p->lit ? GD_POWER_ON : GD_POWER_OFF;
}

enum gd_power_state gd_power_state(struct gd_power *power, double *since_s)
{
	double since;
	pthread_mutex_lock(&power->lock);
	enum gd_power_state s = state_locked(power, now_s(), &since);
	pthread_mutex_unlock(&power->lock);
	if (since_s)
		*since_s = since;
	return s;
}

const char *gd_power_state_name(enum gd_power_state state)
{
	static const char *const names[] = {"unknown", "off", "on", "sleeping"};
	return names[state];
}

int gd_power_action_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++) {
		if (strcmp(name, action_names[i]) == 0)
			return (int)i;
	}
	return -1;
}

static void sleep_ms(unsigned ms)
{
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* Presses BUTTON for MS; always releases, whatever happened. */
static int press(struct gd_power *p, enum gd_power_button button, unsigned ms,
                 struct gd_power_result *r)
{
	double gap = p->released_at + RELEASE_GAP_MS / 1000.0 - now_s();
	if (p->released_at > 0 && gap > 0)
		sleep_ms((unsigned)(gap * 1000) + 1);
	int rc = p->io.set(p->io.ctx, button, true);
	if (rc == 0)
		sleep_ms(ms);
	int release = p->io.set(p->io.ctx, button, false);
	p->released_at = now_s();
	if (rc == 0 && release == 0) {
		r->changed = true;
		r->presses++;
	}
	return rc < 0 ? rc : release;
}

/* Waits until the state is WANT (sleeping counts as on) or TIMEOUT_MS passes. */
static bool wait_for(struct gd_power *p, enum gd_power_state want, unsigned timeout_ms)
{
	double deadline = now_s() + timeout_ms / 1000.0, since;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		enum gd_power_state s = state_locked(p, now_s(), &since);
		if (s == want || (want == GD_POWER_ON && s == GD_POWER_SLEEPING))
			break;
		double left = deadline - now_s();
		if (left <= 0) {
			pthread_mutex_unlock(&p->lock);
			return false;
		}
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		double step =
		    left < 0.1 ? left : 0.1; /* re-evaluate: blinking is a matter of time */
		until.tv_nsec += (long)(step * 1e9);
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&p->led_changed, &p->lock, &until);
	}
	pthread_mutex_unlock(&p->lock);
	return true;
}

static int timed_out(struct gd_power_result *r, const char *what)
{
	snprintf(r->error_code, sizeof(r->error_code), "power_timeout");
	snprintf(r->message, sizeof(r->message), "%s", what);
	return -ETIMEDOUT;
}

static int turn_on(struct gd_power *p, struct gd_power_result *r)
{
	int rc = press(p, GD_POWER_BUTTON, p->timing.press_ms, r);
	if (rc == 0 && !wait_for(p, GD_POWER_ON, p->timing.off_timeout_ms))
		return timed_out(r, "pressed the power button, but the power LED did not come on");
	return rc;
}

static int soft_off(struct gd_power *p, struct gd_power_result *r)
{
	int rc = press(p, GD_POWER_BUTTON, p->timing.press_ms, r);
	if (rc == 0 && !wait_for(p, GD_POWER_OFF, p->timing.off_timeout_ms))
		return timed_out(r, "pressed the power button, but the server is still on: its OS "
		                    "ignored the request (try force-off)");
	return rc;
}

static int force_off(struct gd_power *p, struct gd_power_result *r)
{
	int rc = press(p, GD_POWER_BUTTON, p->timing.long_press_ms, r);
	if (rc == 0 && p->io.has_led && !wait_for(p, GD_POWER_OFF, p->timing.off_timeout_ms))
		return timed_out(r, "held the power button, but the server is still on");
	return rc;
}

static int cycle(struct gd_power *p, enum gd_power_state s, struct gd_power_result *r)
{
	int rc = s == GD_POWER_OFF ? 0 : force_off(p, r);
	if (rc == 0)
		sleep_ms(p->timing.cycle_pause_ms);
	return rc == 0 ? turn_on(p, r) : rc;
}

static bool needs_led(int action)
{
	return action == ACT_ON || action == ACT_OFF || action == ACT_CYCLE;
}

static int run_action(struct gd_power *p, int action, enum gd_power_state s,
                      struct gd_power_result *r)
{
	bool on = s == GD_POWER_ON || s == GD_POWER_SLEEPING;
	switch (action) {
	case ACT_ON: return on ? 0 : turn_on(p, r);
	case ACT_OFF: return on ? soft_off(p, r) : 0;
	case ACT_FORCE_OFF: return s == GD_POWER_OFF ? 0 : force_off(p, r);
	case ACT_RESET: {
		if (s == GD_POWER_OFF)
			return 0;
		int rc = press(p, GD_RESET_BUTTON, p->timing.reset_ms, r);
		if (rc == 0)
			started(p); /* the LED stays lit through a reset: only we know */
		return rc;
	}
	case ACT_CYCLE: return cycle(p, s, r);
	case ACT_PRESS: return press(p, GD_POWER_BUTTON, p->timing.press_ms, r);
	case ACT_LONG_PRESS: return press(p, GD_POWER_BUTTON, p->timing.long_press_ms, r);
	default: return -EINVAL;
	}
}

int gd_power_run(struct gd_power *power, int action, const char *user,
                 struct gd_power_result *result)
{
	memset(result, 0, sizeof(*result));
	if (action < 0 || action > ACT_LONG_PRESS)
		return -EINVAL;
	if (!power->io.has_led && needs_led(action)) {
		snprintf(result->message, sizeof(result->message),
		         "'%s' needs the power LED line to know the state; use press or long-press",
		         action_names[action]);
		return -ENOTSUP;
	}
	if (pthread_mutex_trylock(&power->busy) != 0) {
		snprintf(result->message, sizeof(result->message),
		         "another power action is running");
		return -EBUSY;
	}
	enum gd_power_state before = gd_power_state(power, NULL);
	GD_LOG_INFO("user '%s' asked for %s (server %s)", user, action_names[action],
	            gd_power_state_name(before));
	int rc = run_action(power, action, before, result);
	pthread_mutex_unlock(&power->busy);
	if (rc == 0 && !result->changed)
		snprintf(result->message, sizeof(result->message),
		         "the server is already %s: nothing pressed", gd_power_state_name(before));
	else if (rc == 0)
		snprintf(result->message, sizeof(result->message), "%s done", action_names[action]);
	if (rc < 0 && rc != -ETIMEDOUT)
		GD_LOG_ERROR("%s for user '%s' failed: %s", action_names[action], user,
		             strerror(-rc));
	else if (rc == -ETIMEDOUT)
		GD_LOG_WARN("%s for user '%s': %s", action_names[action], user, result->message);
	return rc;
}
