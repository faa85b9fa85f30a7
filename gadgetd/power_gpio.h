/*
 * power_gpio: the ATX lines with libgpiod (the GPIO character device): two button outputs
 * held inactive from the moment they are requested, and the power LED watched for edges.
 */
#ifndef GD_POWER_GPIO_H
#define GD_POWER_GPIO_H

#include <stddef.h>

#include "config.h"
#include "power.h"

struct gd_power_gpio;

/*
 * Requests CFG's lines: buttons as outputs driven inactive (never a press at start), the
 * LED as an input with edge events. Returns 0 or -errno with ERR.
 */
int gd_power_gpio_open(struct gd_power_gpio **out, const struct gd_config *cfg, char *err,
                       size_t errlen);
/* The operations gd_power_new() takes; valid while the lines are open. */
const struct gd_power_io *gd_power_gpio_io(struct gd_power_gpio *gpio);
/* Starts reporting the LED to POWER. Returns 0 or -errno. */
int gd_power_gpio_watch(struct gd_power_gpio *gpio, struct gd_power *power);
/* Stops watching, drives both buttons inactive, releases the lines. */
void gd_power_gpio_close(struct gd_power_gpio *gpio);

#endif
