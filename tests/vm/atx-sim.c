/*
 * atx-sim: the server's motherboard in the VM rig, wired to the gpio-sim chip that gadgetd
 * drives as the Pi's GPIOs. Line 0 (ATX_POWER) and line 1 (ATX_RESET) are the front panel's
 * buttons, outputs of gadgetd; line 2 (ATX_LED) is the power LED, an input of gadgetd that
 * this program drives through the line's pull. gpio-sim tells no one when a consumer sets an
 * output, so the buttons are polled every 5 ms, at SCHED_FIFO so that the period holds under
 * TCG. While no consumer holds a button line it reads as its pull, which this program keeps
 * at the button's released level, as the board's resistors would.
 *
 * The board starts off. A button is pressed while its line is at the active level: high, or
 * low while /run/atx-sim/active-low exists (checked while no button is down).
 *   power, pressed while off: on at the release, however long; the LED lights 300 ms later;
 *   power, pressed while on, released within 4 s: the OS shuts down, off 1 s later, unless
 *     /run/atx-sim/ignore-soft-off exists (then nothing), or it wakes the server if asleep;
 *   power, pressed while on, held 4 s: off at the 4 s mark, before the release;
 *   reset, released while on: a reboot (stays on, wakes, cancels a pending shutdown).
 * While /run/atx-sim/sleep exists and the server is on, it sleeps: the LED blinks at 1 Hz,
 * off first. Waking, a power change and a command remove that file. The LED is lit high, or
 * low while /run/atx-sim/led-active-low exists. The files are checked every 20 ms.
 *
 * For the tests and the server's firmware (tests/vm/firmware.c): /run/atx-sim/state holds "on"
 * or "off", rewritten on each change, and /run/atx-sim/resets the number of reboots by the
 * reset button so far, rewritten at each one. A test writes "force-on" or "force-off" to
 * /run/atx-sim/command, and this program applies it at once (LED steady, no pending shutdown,
 * awake) and then removes the file; "reset" reboots the board if it is on, as the reset button
 * would, without a button event.
 *
 * Events, one JSON line per write(2), "ts" in CLOCK_REALTIME seconds of the poll that saw it:
 *   {"source":"atx","event":"button_down","button":"power"|"reset","ts":...}   each press
 *   {"source":"atx","event":"power_button","held_ms":512,"ts":...}   each release of power
 *   {"source":"atx","event":"reset","held_ms":503,"ts":...}          each release of reset
 *   {"source":"atx","event":"power_state","on":true|false,"ts":...}  each change of state
 * held_ms runs from the poll that saw the press to the poll that saw the release.
 *
 * Usage: atx-sim OUTPUT LINES
 *   OUTPUT: the virtio port to the build machine, or "-" for standard output (the port takes
 *           one opener: the rig's init opens it once for the observer and this program);
 *   LINES:  the chip's sysfs directory, with sim_gpioN/{value,pull}.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PERIOD_NS  5000000L /* polling period of the buttons */
#define CTL_POLLS  4        /* the control files every 4 polls: they cost more under TCG */
#define LONG_PRESS 4.0      /* seconds held that force the board off */
#define LED_DELAY  0.3      /* from power on to the LED */
#define SHUTDOWN   1.0      /* from a short press to off */
#define BLINK      0.5      /* half a period of the sleep blink */
#define LINE_POWER 0
#define LINE_RESET 1
#define LINE_LED   2
#define CTL        "/run/atx-sim/"

struct button {
	const char *name;
	int line;
	int fd;         /* its value file */
	bool down;      /* pressed at the last poll */
	double down_at; /* the poll that saw the press (monotonic seconds) */
	bool was_on;    /* the board was on at the press */
	bool forced;    /* this press has forced the board off */
};

struct board {
	bool on;
	double led_at;      /* while on: when the LED may light (power-good delay) */
	double off_at;      /* a pending shutdown, or 0 */
	double sleep_since; /* asleep since, or 0 */
	bool active_low;    /* the buttons' polarity */
	bool led_low;       /* the LED's polarity */
	unsigned polls;     /* polls so far */
	unsigned resets;    /* reboots by the reset button so far */
	int led_level;      /* the LED line's level last set, -1 at start */
	int idle_level;     /* the buttons' released level last set, -1 at start */
	double now, wall;   /* the current poll: monotonic and realtime seconds */
	const char *lines;  /* the chip's sysfs directory */
	int out;            /* the event stream */
};

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool exists(const char *name)
{
	return access(name, F_OK) == 0;
}

static void emit(struct board *b, const char *fields)
{
	char line[256];
	int n =
	    snprintf(line, sizeof(line), "{\"source\":\"atx\",%s,\"ts\":%.6f}\n", fields, b->wall);
	if (write(b->out, line, (size_t)n) != n)
		perror("atx-sim: event");
}

static void emit_held(struct board *b, const char *event, const struct button *btn)
{
	char fields[128];
	snprintf(fields, sizeof(fields), "\"event\":\"%s\",\"held_ms\":%ld", event,
	         (long)((b->now - btn->down_at) * 1000 + 0.5));
	emit(b, fields);
}

/* Sets the pull of LINE, which is its level while no consumer drives it. */
static void set_pull(struct board *b, int line, int level)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/sim_gpio%d/pull", b->lines, line);
	int fd = open(path, O_WRONLY);
	const char *pull = level ? "pull-up" : "pull-down";
	if (fd < 0 || write(fd, pull, strlen(pull)) < 0)
		perror(path);
	if (fd >= 0)
		close(fd);
}

/* Whether BTN's line is at the active level; exits if it cannot be read. */
static bool line_active(const struct board *b, const struct button *btn)
{
	char c = '0';
	if (pread(btn->fd, &c, 1, 0) != 1) {
		perror("atx-sim: reading a button");
		exit(1);
	}
	return (c == '1') != b->active_low;
}

static void write_state(const struct board *b)
{
	FILE *f = fopen(CTL "state.tmp", "w");
	if (f == NULL || fputs(b->on ? "on\n" : "off\n", f) < 0 || fclose(f) != 0 ||
	    rename(CTL "state.tmp", CTL "state") < 0)
		perror("atx-sim: " CTL "state");
}

static void write_resets(const struct board *b)
{
	FILE *f = fopen(CTL "resets.tmp", "w");
	if (f == NULL || fprintf(f, "%u\n", b->resets) < 0 || fclose(f) != 0 ||
	    rename(CTL "resets.tmp", CTL "resets") < 0)
		perror("atx-sim: " CTL "resets");
}

static void wake(struct board *b)
{
	b->sleep_since = 0;
	unlink(CTL "sleep");
}

/* Powers on or off; LED_DELAY: whether the LED waits for the power-good delay. */
static void set_power(struct board *b, bool on, bool led_delay)
{
	b->off_at = 0;
	b->led_at = on && led_delay ? b->now + LED_DELAY : 0;
	wake(b);
	if (b->on == on)
		return;
	b->on = on;
	write_state(b);
	emit(b, on ? "\"event\":\"power_state\",\"on\":true"
	           : "\"event\":\"power_state\",\"on\":false");
}

static void power_released(struct board *b, const struct button *btn)
{
	emit_held(b, "power_button", btn);
	if (btn->forced)
		return;
	if (!btn->was_on) {
		if (!b->on)
			set_power(b, true, true);
	} else if (b->on && b->sleep_since > 0) {
		wake(b);
	} else if (b->on && b->off_at == 0 && !exists(CTL "ignore-soft-off")) {
		b->off_at = b->now + SHUTDOWN;
	}
}

/* A reboot, if on: awake, no pending shutdown, one more reset. */
static void reboot(struct board *b)
{
	if (b->on) {
		b->off_at = 0;
		wake(b);
		b->resets++;
		write_resets(b);
	}
}

static void reset_released(struct board *b, const struct button *btn)
{
	emit_held(b, "reset", btn);
	reboot(b);
}

static void poll_button(struct board *b, struct button *btn)
{
	bool down = line_active(b, btn);
	if (down && !btn->down) {
		btn->down_at = b->now;
		btn->was_on = b->on;
		btn->forced = false;
		char fields[64];
		snprintf(fields, sizeof(fields), "\"event\":\"button_down\",\"button\":\"%s\"",
		         btn->name);
		emit(b, fields);
	} else if (!down && btn->down) {
		if (btn->line == LINE_POWER)
			power_released(b, btn);
		else
			reset_released(b, btn);
	} else if (down && btn->line == LINE_POWER && btn->was_on && b->on && !btn->forced &&
	           b->now - btn->down_at >= LONG_PRESS) {
		btn->forced = true;
		set_power(b, false, false);
	}
	btn->down = down;
}

/* Applies a test's command, if there is a complete one. */
static void poll_command(struct board *b)
{
	char cmd[32] = "";
	FILE *f = fopen(CTL "command", "r");
	if (f == NULL)
		return;
	bool got = fgets(cmd, sizeof(cmd), f) != NULL;
	fclose(f);
	if (!got)
		return; /* still being written */
	cmd[strcspn(cmd, " \t\r\n")] = '\0';
	if (strcmp(cmd, "force-on") == 0 || strcmp(cmd, "force-off") == 0)
		set_power(b, strcmp(cmd, "force-on") == 0, false);
	else if (strcmp(cmd, "reset") == 0)
		reboot(b);
	else
		fprintf(stderr, "atx-sim: unknown command '%s'\n", cmd);
	unlink(CTL "command");
}

/* The buttons' polarity; their released level follows it before they are read again. */
static void read_polarity(struct board *b)
{
	b->active_low = exists(CTL "active-low");
	int idle = b->active_low;
	if (idle != b->idle_level) {
		set_pull(b, LINE_POWER, idle);
		set_pull(b, LINE_RESET, idle);
	}
	b->idle_level = idle;
}

/* The LED, through its pull when its level changes. */
static void update_led(struct board *b)
{
	bool lit = b->on && b->now >= b->led_at;
	if (lit && b->sleep_since > 0) /* off for the first half period: the change shows at once */
		lit = (long)((b->now - b->sleep_since) / BLINK) % 2 == 1;
	int led = lit != b->led_low;
	if (led != b->led_level)
		set_pull(b, LINE_LED, led);
	b->led_level = led;
}

static void tick(struct board *b, struct button *buttons)
{
	b->now = clock_s(CLOCK_MONOTONIC);
	b->wall = clock_s(CLOCK_REALTIME);
	bool controls = b->polls++ % CTL_POLLS == 0;
	if (controls && !buttons[0].down && !buttons[1].down)
		read_polarity(b);
	for (int i = 0; i < 2; i++)
		poll_button(b, &buttons[i]);
	if (b->off_at > 0 && b->now >= b->off_at)
		set_power(b, false, false);
	if (controls) {
		if (!b->on || !exists(CTL "sleep"))
			b->sleep_since = 0;
		else if (b->sleep_since == 0)
			b->sleep_since = b->now;
		b->led_low = exists(CTL "led-active-low");
		poll_command(b);
	}
	update_led(b);
}

static int open_output(const char *path)
{
	if (strcmp(path, "-") == 0)
		return STDOUT_FILENO;
	int fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

static int open_value(const char *lines, int line)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/sim_gpio%d/value", lines, line);
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: atx-sim OUTPUT LINES\n");
		return 2;
	}
	struct board b = {.led_level = -1, .idle_level = -1, .lines = argv[2]};
	b.out = open_output(argv[1]);
	struct button buttons[2] = {
	    {.name = "power", .line = LINE_POWER, .fd = open_value(b.lines, LINE_POWER)},
	    {.name = "reset", .line = LINE_RESET, .fd = open_value(b.lines, LINE_RESET)},
	};
	if (mkdir(CTL, 0755) < 0 && errno != EEXIST) {
		perror(CTL);
		return 1;
	}
	unlink(CTL "sleep");
	unlink(CTL "command");
	write_state(&b);
	write_resets(&b);
	b.now = clock_s(CLOCK_MONOTONIC);
	read_polarity(&b); /* released buttons and a dark LED before the first poll */
	b.led_low = exists(CTL "led-active-low");
	update_led(&b);
	struct sched_param prio = {.sched_priority = 50};
	if (sched_setscheduler(0, SCHED_FIFO, &prio) < 0)
		perror("atx-sim: SCHED_FIFO");
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		tick(&b, buttons);
		next.tv_nsec += PERIOD_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		/* Behind by more than a period (a stalled guest): no burst of catch-up polls. */
		if (b.now - ((double)next.tv_sec + (double)next.tv_nsec / 1e9) > PERIOD_NS / 1e9)
			clock_gettime(CLOCK_MONOTONIC, &next);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
}
