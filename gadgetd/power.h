/*
 * power: the server's ATX buttons and power LED: actions (on, off, force-off, reset, cycle,
 * press, long-press) decided from the LED's state, one at a time, never a press at start.
 * The lines are behind a small table of operations (power_gpio.c drives them with libgpiod;
 * tests use a fake).
 */
#ifndef GD_POWER_H
#define GD_POWER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum gd_power_button { GD_POWER_BUTTON, GD_RESET_BUTTON };
enum gd_power_state { GD_POWER_UNKNOWN, GD_POWER_OFF, GD_POWER_ON, GD_POWER_SLEEPING };

struct gd_power_timing {
	unsigned press_ms;      /* a short press of the power button */
	unsigned long_press_ms; /* held to force the server off */
	unsigned reset_ms;
	unsigned off_timeout_ms; /* how long "off" and "on" wait for the LED to follow */
	unsigned cycle_pause_ms; /* off, then this, then on */
};

/* The lines: press or release a button (the backend applies the wiring's polarity). */
struct gd_power_io {
	int (*set)(void *ctx, enum gd_power_button button, bool pressed);
	void *ctx;
	bool has_led;
};

struct gd_power;

/* Takes IO over (buttons must already be released). Returns NULL when out of memory. */
struct gd_power *gd_power_new(const struct gd_power_io *io, const struct gd_power_timing *timing);
void gd_power_free(struct gd_power *power);

/* From the LED watcher: the LED's level (debounced by the caller) at time AT (CLOCK_MONOTONIC). */
void gd_power_led(struct gd_power *power, bool lit, const struct timespec *at);

/*
 * FN(CTX) runs when the server's firmware starts: the LED comes on after being dark for a
 * while, or the reset button was pressed while it was on. It runs on the LED watcher's or the
 * action's thread: it must not block. NULL removes it.
 */
typedef void (*gd_power_start_fn)(void *ctx);
void gd_power_on_start(struct gd_power *power, gd_power_start_fn fn, void *ctx);

enum gd_power_state gd_power_state(struct gd_power *power, double *since_s);
const char *gd_power_state_name(enum gd_power_state state);

/* Parses "on", "off", "force-off", "reset", "cycle", "press", "long-press"; -1 otherwise. */
int gd_power_action_parse(const char *name);

struct gd_power_result {
	bool changed;     /* a button was pressed */
	unsigned presses; /* how many */
	char error_code[32];
	char message[160]; /* what happened or why not */
};

/*
 * Runs ACTION for USER. Returns 0 (RESULT says whether anything changed), -EBUSY while
 * another action runs, -ENOTSUP for a state-dependent action without an LED line,
 * -ETIMEDOUT when the server did not follow (RESULT says so), or -EIO from the lines.
 */
int gd_power_run(struct gd_power *power, int action, const char *user,
                 struct gd_power_result *result);

#endif
