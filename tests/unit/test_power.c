/* Unit tests of power: every action from every state, timeouts and conflicts, on fake lines. */
#include "power.h"

#include <errno.h>
#include <pthread.h>

#include "log.h"
#include "unit.h"

/* A fake motherboard behind the fake lines: it follows the buttons like the rig's simulator. */
struct board {
	struct gd_power *power;
	bool on;
	bool ignore_soft_off;
	unsigned presses[2];
	double held_ms[2];
	struct timespec down[2];
	struct timespec up[2];
	double gap_ms[2]; /* between the last release and the press after it */
};

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1000.0 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static void show(struct board *b)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	gd_power_led(b->power, b->on, &now);
}

static int fake_set(void *ctx, enum gd_power_button button, bool pressed)
{
	struct board *b = ctx;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (pressed) {
		b->down[button] = now;
		b->gap_ms[button] = ms_between(&b->up[button], &now);
		return 0;
	}
	b->up[button] = now;
	b->presses[button]++;
	b->held_ms[button] = ms_between(&b->down[button], &now);
	if (button == GD_POWER_BUTTON) {
		if (!b->on)
			b->on = true;
		else if (b->held_ms[button] >= 90 || !b->ignore_soft_off)
			b->on = false;
	}
	show(b);
	return 0;
}

static const struct gd_power_timing timing = {.press_ms = 20,
                                              .long_press_ms = 100,
                                              .reset_ms = 30,
                                              .off_timeout_ms = 300,
                                              .cycle_pause_ms = 20};

static struct gd_power *setup(struct board *b, bool on, bool has_led)
{
	memset(b, 0, sizeof(*b));
	struct gd_power_io io = {.set = fake_set, .ctx = b, .has_led = has_led};
	b->power = gd_power_new(&io, &timing);
	b->on = on;
	if (has_led)
		show(b);
	return b->power;
}

static int run(struct gd_power *p, const char *action, struct gd_power_result *r)
{
	return gd_power_run(p, gd_power_action_parse(action), "test", r);
}

static void test_each_action_from_off_and_on(void **state)
{
	(void)state;
	static const struct {
		const char *action;
		bool from_on;
		bool changed;
		unsigned power_presses, reset_presses;
		bool on_after;
	} cases[] = {
	    {"on", false, true, 1, 0, true},         {"on", true, false, 0, 0, true},
	    {"off", true, true, 1, 0, false},        {"off", false, false, 0, 0, false},
	    {"force-off", true, true, 1, 0, false},  {"force-off", false, false, 0, 0, false},
	    {"reset", true, true, 0, 1, true},       {"reset", false, false, 0, 0, false},
	    {"cycle", true, true, 2, 0, true},       {"cycle", false, true, 1, 0, true},
	    {"press", false, true, 1, 0, true},      {"press", true, true, 1, 0, false},
	    {"long-press", true, true, 1, 0, false}, {"long-press", false, true, 1, 0, true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct board b;
		struct gd_power *p = setup(&b, cases[i].from_on, true);
		struct gd_power_result r;
		int rc = run(p, cases[i].action, &r);
		if (rc != 0 || r.changed != cases[i].changed ||
		    b.presses[0] != cases[i].power_presses ||
		    b.presses[1] != cases[i].reset_presses || b.on != cases[i].on_after)
			fail_msg("%s from %s: rc %d changed %d presses %u/%u on %d",
			         cases[i].action, cases[i].from_on ? "on" : "off", rc, r.changed,
			         b.presses[0], b.presses[1], b.on);
		assert_int_equal(gd_power_state(p, NULL), b.on ? GD_POWER_ON : GD_POWER_OFF);
		gd_power_free(p);
	}
}

static void test_press_durations(void **state)
{
	(void)state;
	struct board b;
	struct gd_power *p = setup(&b, true, true);
	struct gd_power_result r;
	assert_int_equal(run(p, "force-off", &r), 0);
	assert_true(b.held_ms[0] >= 100 && b.held_ms[0] < 200);
	assert_int_equal(run(p, "press", &r), 0);
	assert_true(b.held_ms[0] >= 20 && b.held_ms[0] < 90);
	assert_int_equal(run(p, "reset", &r), 0);
	assert_true(b.held_ms[1] >= 30 && b.held_ms[1] < 120);
	gd_power_free(p);
}

static void test_soft_off_ignored_times_out_and_stays_on(void **state)
{
	(void)state;
	struct board b;
	struct gd_power *p = setup(&b, true, true);
	b.ignore_soft_off = true;
	struct gd_power_result r;
	assert_int_equal(run(p, "off", &r), -ETIMEDOUT);
	assert_string_equal(r.error_code, "power_timeout");
	assert_non_null(strstr(r.message, "still on"));
	assert_int_equal(b.presses[0], 1);
	assert_int_equal(gd_power_state(p, NULL), GD_POWER_ON);
	gd_power_free(p);
}

static void test_without_led(void **state)
{
	(void)state;
	struct board b;
	struct gd_power *p = setup(&b, false, false);
	struct gd_power_result r;
	assert_int_equal(gd_power_state(p, NULL), GD_POWER_UNKNOWN);
	assert_int_equal(run(p, "on", &r), -ENOTSUP);
	assert_int_equal(run(p, "off", &r), -ENOTSUP);
	assert_int_equal(run(p, "cycle", &r), -ENOTSUP);
	assert_int_equal(b.presses[0], 0);
	assert_int_equal(run(p, "press", &r), 0);
	assert_int_equal(run(p, "long-press", &r), 0);
	assert_int_equal(run(p, "reset", &r), 0);
	assert_int_equal(b.presses[0], 2);
	assert_int_equal(b.presses[1], 1);
	gd_power_free(p);
}

static void *long_press(void *arg)
{
	struct gd_power_result r;
	run(arg, "long-press", &r);
	return NULL;
}

static void test_second_action_is_refused(void **state)
{
	(void)state;
	struct board b;
	struct gd_power *p = setup(&b, true, true);
	pthread_t t;
	pthread_create(&t, NULL, long_press, p);
	struct timespec wait = {.tv_nsec = 30 * 1000000L};
	nanosleep(&wait, NULL);
	struct gd_power_result r;
	assert_int_equal(run(p, "reset", &r), -EBUSY);
	assert_non_null(strstr(r.message, "another power action"));
	pthread_join(t, NULL);
	assert_int_equal(b.presses[1], 0);
	assert_int_equal(run(p, "on", &r), 0); /* free again */
	gd_power_free(p);
}

static void test_blinking_led_is_sleeping(void **state)
{
	(void)state;
	struct board b;
	struct gd_power *p = setup(&b, true, true);
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec -= 3;
	for (int i = 0; i < 6; i++) { /* 0.5 s on, 0.5 s off, ending now */
		t.tv_nsec += 500000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		gd_power_led(p, i % 2 == 0, &t);
	}
	double since = 0;
	assert_int_equal(gd_power_state(p, &since), GD_POWER_SLEEPING);
	struct gd_power_result r;
	assert_int_equal(run(p, "on", &r), 0);
	assert_false(r.changed); /* asleep counts as on: no press */
	struct timespec steady = {.tv_sec = 1, .tv_nsec = 400000000L};
	nanosleep(&steady, NULL); /* the LED stopped blinking */
	assert_int_not_equal(gd_power_state(p, NULL), GD_POWER_SLEEPING);
	gd_power_free(p);
}

/* Two actions back to back are two presses, not one long one. */
static void test_presses_are_apart(void **state)
{
	(void)state;
	struct board b;
	struct gd_power *p = setup(&b, false, true);
	struct gd_power_result r;
	assert_int_equal(run(p, "press", &r), 0);
	assert_int_equal(run(p, "press", &r), 0);
	assert_int_equal(b.presses[GD_POWER_BUTTON], 2);
	assert_true(b.gap_ms[GD_POWER_BUTTON] >= 250);
	gd_power_free(p);
}

static void count_start(void *ctx)
{
	(*(unsigned *)ctx)++;
}

/* Second S of a made-up past: 1000 is ten seconds ago. */
static struct timespec at_s(double s)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	s += (double)now.tv_sec - 1010;
	return (struct timespec){.tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9)};
}

/* The firmware starts when the LED comes on after a real dark spell, or at a reset. */
static void test_start_hook(void **state)
{
	(void)state;
	struct board b;
	struct gd_power *p = setup(&b, true, true);
	unsigned starts = 0;
	gd_power_on_start(p, count_start, &starts);
	struct timespec t = at_s(1000);
	gd_power_led(p, false, &t);
	t = at_s(1000.5);
	gd_power_led(p, true, &t); /* a blink */
	assert_int_equal(starts, 0);
	t = at_s(1001);
	gd_power_led(p, false, &t);
	t = at_s(1003);
	gd_power_led(p, true, &t);
	assert_int_equal(starts, 1);
	t = at_s(1004);
	gd_power_led(p, true, &t); /* the same level again: nothing */
	assert_int_equal(starts, 1);
	struct gd_power_result r;
	b.on = true;
	show(&b);
	assert_int_equal(run(p, "reset", &r), 0);
	assert_int_equal(starts, 2);
	assert_int_equal(run(p, "force-off", &r), 0);
	assert_int_equal(run(p, "reset", &r), 0); /* off: no press, no start */
	assert_false(r.changed);
	assert_int_equal(starts, 2);
	gd_power_on_start(p, NULL, NULL);
	gd_power_free(p);
}

static void test_action_names(void **state)
{
	(void)state;
	assert_int_equal(gd_power_action_parse("force-off"), 2);
	assert_int_equal(gd_power_action_parse("reboot"), -1);
	assert_int_equal(gd_power_action_parse(""), -1);
	assert_string_equal(gd_power_state_name(GD_POWER_SLEEPING), "sleeping");
}

int main(void)
{
	gd_log_set_level(GD_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_action_from_off_and_on),
	    cmocka_unit_test(test_press_durations),
	    cmocka_unit_test(test_soft_off_ignored_times_out_and_stays_on),
	    cmocka_unit_test(test_without_led),
	    cmocka_unit_test(test_second_action_is_refused),
	    cmocka_unit_test(test_blinking_led_is_sleeping),
	    cmocka_unit_test(test_presses_are_apart),
	    cmocka_unit_test(test_start_hook),
	    cmocka_unit_test(test_action_names),
	};
	return cmocka_run_group_tests_name("power", tests, NULL, NULL);
}
