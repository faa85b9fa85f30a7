/*
 * Fuzzes the config parser: the input is a config file (INI), loaded with gd_config_load over
 * the defaults (as main.c does) and over a zeroed struct. Checks that every string field stays
 * NUL-terminated within its array, that numbers stay in their documented ranges after a
 * successful load, and that the error is one terminated line naming the file.
 */
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"

#define TERMINATED(field) FUZZ_CHECK(memchr((field), '\0', sizeof(field)) != NULL)

static void check_config(const struct gd_config *cfg)
{
	TERMINATED(cfg->gadget_name);
	TERMINATED(cfg->configfs);
	TERMINATED(cfg->udc);
	TERMINATED(cfg->udc_class);
	TERMINATED(cfg->manufacturer);
	TERMINATED(cfg->product);
	TERMINATED(cfg->serial);
	TERMINATED(cfg->image_store);
	TERMINATED(cfg->bind);
	TERMINATED(cfg->users_file);
	TERMINATED(cfg->layout);
	TERMINATED(cfg->keymaps_dir);
	TERMINATED(cfg->power_chip);
	TERMINATED(cfg->power_line);
	TERMINATED(cfg->reset_line);
	TERMINATED(cfg->led_line);
	TERMINATED(cfg->console_tty);
	TERMINATED(cfg->console_tcp_bind);
	TERMINATED(cfg->console_banner);
	TERMINATED(cfg->state_dir);
	FUZZ_CHECK((cfg->functions.mask &
	            ~(unsigned)(GD_FUNC_KEYBOARD | GD_FUNC_MASS_STORAGE | GD_FUNC_ACM)) == 0);
	FUZZ_CHECK(cfg->pacing_ms <= 1000);
	FUZZ_CHECK(cfg->console_tcp_clients <= 64);
	FUZZ_CHECK(cfg->console_log_files <= 100);
	FUZZ_CHECK(cfg->log_level >= GD_LOG_ERROR && cfg->log_level <= GD_LOG_DEBUG);
	char buf[64];
	gd_config_functions_str(cfg->functions.mask, buf, sizeof(buf));
	TERMINATED(buf);
}

static void load(struct gd_config *cfg, const char *path)
{
	char err[512];
	memset(err, 'x', sizeof(err));
	int rc = gd_config_load(cfg, path, err, sizeof(err));
	/* Also after an error: what was set before the bad line must be valid. */
	check_config(cfg);
	if (cfg->port != 0)
		FUZZ_CHECK(cfg->port <= 65535);
	if (rc == 0)
		return;
	FUZZ_CHECK(fuzz_terminated(err, sizeof(err)));
	FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0);
	FUZZ_CHECK(strchr(err, '\n') == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct gd_config cfg;
	gd_config_defaults(&cfg);
	load(&cfg, path);
	memset(&cfg, 0, sizeof(cfg));
	load(&cfg, path);
	return 0;
}
