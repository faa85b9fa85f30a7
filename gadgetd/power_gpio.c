/*
 * power_gpio: the ATX lines with libgpiod (the GPIO character device): two button outputs
 * held inactive from the moment they are requested, and the power LED watched for edges.
 */
#include "power_gpio.h"

#include <errno.h>
#include <gpiod.h>
#include <linux/gpio.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define LOG_PREFIX  "GPIO: "
#define CONSUMER    "gadgetd"
#define DEBOUNCE_MS 20

struct gd_power_gpio {
	struct gpiod_chip *chip;
	struct gpiod_line *buttons[2]; /* power, reset; NULL when not wired */
	struct gpiod_line *led;
	struct gd_power_io io;
	struct gd_power *power;
	pthread_t watcher;
	bool watching;
	atomic_bool stopping;
};

static struct gpiod_line *find_line(struct gpiod_chip *chip, const char *spec)
{
	char *end;
	unsigned long offset = strtoul(spec, &end, 10);
	if (*spec != '\0' && *end == '\0')
		return gpiod_chip_get_line(chip, (unsigned)offset);
	return gpiod_chip_find_line(chip, spec);
}

static int request(struct gd_power_gpio *g, const char *spec, bool active_low, bool output,
                   struct gpiod_line **out, const char *what, char *err, size_t errlen)
{
	*out = NULL;
	if (spec[0] == '\0')
		return 0;
	struct gpiod_line *line = find_line(g->chip, spec);
	if (line == NULL) {
		snprintf(err, errlen, "[power] %s: no line '%s' on %s", what, spec,
		         gpiod_chip_name(g->chip));
		return -ENOENT;
	}
	int flags = active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
	/* Outputs start at 0, the inactive level whatever the wiring: no press at start. */
	int rc = output ? gpiod_line_request_output_flags(line, CONSUMER, flags, 0)
	                : gpiod_line_request_both_edges_events_flags(line, CONSUMER, flags);
	if (rc < 0) {
		snprintf(err, errlen, "[power] %s: line '%s': %s", what, spec, strerror(errno));
		return -errno;
	}
	*out = line;
	return 0;
}

static int set_button(void *ctx, enum gd_power_button button, bool pressed)
{
	struct gd_power_gpio *g = ctx;
	struct gpiod_line *line = g->buttons[button];
	if (line == NULL)
		return -ENODEV;
	return gpiod_line_set_value(line, pressed ? 1 : 0) < 0 ? -errno : 0;
}

int gd_power_gpio_open(struct gd_power_gpio **out, const struct gd_config *cfg, char *err,
                       size_t errlen)
{
	struct gd_power_gpio *g = calloc(1, sizeof(*g));
	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->chip = gpiod_chip_open_lookup(cfg->power_chip);
	int rc = 0;
	if (g->chip == NULL) {
		rc = -errno;
		snprintf(err, errlen, "[power] chip '%s': %s", cfg->power_chip, strerror(errno));
	}
	if (rc == 0)
		rc = request(g, cfg->power_line, cfg->power_active_low, true, &g->buttons[0],
		             "power_line", err, errlen);
	if (rc == 0)
		rc = request(g, cfg->reset_line, cfg->reset_active_low, true, &g->buttons[1],
		             "reset_line", err, errlen);
	if (rc == 0)
		rc = request(g, cfg->led_line, cfg->led_active_low, false, &g->led, "led_line", err,
		             errlen);
	if (rc < 0) {
		gd_power_gpio_close(g);
		return rc;
	}
	g->io = (struct gd_power_io){.set = set_button, .ctx = g, .has_led = g->led != NULL};
	*out = g;
	return 0;
}

const struct gd_power_io *gd_power_gpio_io(struct gd_power_gpio *gpio)
{
	return &gpio->io;
}

/* Reports the LED's settled level: after an edge, the level DEBOUNCE_MS later. */
static void report_led(struct gd_power_gpio *g)
{
	int value = gpiod_line_get_value(g->led);
	if (value < 0)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	gd_power_led(g->power, value == 1, &now);
}

/*
 * libgpiod 1.6's event calls take and fill struct timespec, whose size on 32-bit ARM depends
 * on _TIME_BITS, and bookworm's armhf libgpiod was built with a 32-bit time_t: gadgetd polls
 * the line's descriptor and drains the kernel's records (fixed-size uAPI) itself instead.
 */
static void *watch(void *arg)
{
	struct gd_power_gpio *g = arg;
	struct pollfd pfd = {.fd = gpiod_line_event_get_fd(g->led), .events = POLLIN};
	report_led(g);
	while (!atomic_load(&g->stopping)) {
		int rc = poll(&pfd, 1, 200);
		if (rc < 0 && errno != EINTR) {
			GD_LOG_ERROR("watching the LED: %s", strerror(errno));
			break;
		}
		if (rc <= 0)
			continue;
		struct gpioevent_data events[16];
		if (read(pfd.fd, events, sizeof(events)) < 0)
			continue;
		struct timespec settle = {.tv_sec = 0, .tv_nsec = DEBOUNCE_MS * 1000000L};
		nanosleep(&settle, NULL);
		report_led(g);
	}
	return NULL;
}

int gd_power_gpio_watch(struct gd_power_gpio *gpio, struct gd_power *power)
{
	gpio->power = power;
	if (gpio->led == NULL)
		return 0;
	int rc = pthread_create(&gpio->watcher, NULL, watch, gpio);
	gpio->watching = rc == 0;
	return -rc;
}

void gd_power_gpio_close(struct gd_power_gpio *gpio)
{
	if (gpio == NULL)
		return;
	atomic_store(&gpio->stopping, true);
	if (gpio->watching)
		pthread_join(gpio->watcher, NULL);
	for (size_t i = 0; i < 2; i++) {
		if (gpio->buttons[i] != NULL) {
			gpiod_line_set_value(gpio->buttons[i], 0); /* released, whatever happened */
			gpiod_line_release(gpio->buttons[i]);
		}
	}
	if (gpio->led != NULL)
		gpiod_line_release(gpio->led);
	if (gpio->chip != NULL)
		gpiod_chip_close(gpio->chip);
	free(gpio);
}
