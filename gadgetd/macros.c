/*
 * macros: the named macros: a built-in library (Ctrl+Alt+Del, BIOS setup and boot-menu keys
 * per vendor, GRUB, SysRq) and the user's saved macros, one JSON file each in a directory.
 */
#include "macros.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "macro.h"

/* The BIOS keys are hammered for 10 s: press the macro, then power the server on. */
#define HAMMER(key) "repeat 40 every 250ms: " key

static const struct builtin {
	const char *name;
	const char *macro;
	const char *description;
} builtins[] = {
    {"ctrl-alt-del", "ctrl+alt+delete", "Ctrl+Alt+Del"},
    {"bios-setup-f2", HAMMER("f2"), "Enter setup with F2 (Dell, Intel, Acer, many AMI boards)"},
    {"bios-setup-del", HAMMER("delete"), "Enter setup with Del (Supermicro, ASUS, MSI, Gigabyte)"},
    {"bios-setup-f10", HAMMER("f10"), "Enter setup with F10 (HP)"},
    {"bios-setup-f1", HAMMER("f1"), "Enter setup with F1 (Lenovo ThinkPad/ThinkCentre)"},
    {"bios-setup-esc", HAMMER("esc"), "Enter the startup menu with Esc (HP, some Lenovo)"},
    {"boot-menu-f12", HAMMER("f12"), "One-time boot menu with F12 (Dell, Lenovo, Gigabyte)"},
    {"boot-menu-f11", HAMMER("f11"), "One-time boot menu with F11 (Supermicro, MSI, ASRock)"},
    {"boot-menu-f8", HAMMER("f8"), "One-time boot menu with F8 (ASUS)"},
    {"boot-menu-f9", HAMMER("f9"), "One-time boot menu with F9 (HP)"},
    {"boot-menu-esc", HAMMER("esc"), "Boot menu with Esc (some ASUS, AMI)"},
    {"grub-menu", "hold shift 3s", "Show the GRUB menu (BIOS boot: hold Shift)"},
    {"grub-menu-esc", "repeat 12 every 250ms: esc", "Show the GRUB menu (UEFI boot: Esc)"},
    {"grub-edit", "e", "Edit the selected GRUB entry"},
    {"grub-boot", "ctrl+x", "Boot the edited GRUB entry"},
    {"sysrq-reisub",
     "alt+sysrq+r; wait 1s; alt+sysrq+e; wait 3s; alt+sysrq+i; wait 3s; alt+sysrq+s; wait 3s; "
     "alt+sysrq+u; wait 3s; alt+sysrq+b",
     "Linux magic SysRq: reboot safely (needs kernel.sysrq)"},
    {"sysrq-reboot", "alt+sysrq+b", "Linux magic SysRq: reboot at once"},
    {"ctrl-alt-f1", "ctrl+alt+f1", "Switch to the first Linux virtual console"},
    {"ctrl-alt-f2", "ctrl+alt+f2", "Switch to the second Linux virtual console"},
};

#define BUILTIN_COUNT (sizeof(builtins) / sizeof(builtins[0]))

struct gd_macros {
	pthread_mutex_t lock;
	char dir[PATH_MAX];
};

int gd_macros_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > 64 || name[0] == '.' || name[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!(islower(c) || isdigit(c) || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static const struct builtin *find_builtin(const char *name)
{
	for (size_t i = 0; i < BUILTIN_COUNT; i++) {
		if (strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	}
	return NULL;
}

int gd_macros_open(struct gd_macros **out, const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(err, errlen, "macros directory %s: %s", dir, strerror(e));
		return -e;
	}
	struct gd_macros *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	*out = m;
	return 0;
}

void gd_macros_close(struct gd_macros *macros)
{
	if (macros == NULL)
		return;
	pthread_mutex_destroy(&macros->lock);
	free(macros);
}

static void macro_path(const struct gd_macros *m, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.json", m->dir, name);
}

static json_t *load_saved(const struct gd_macros *m, const char *name)
{
	char path[PATH_MAX + 80];
	macro_path(m, name, path, sizeof(path));
	json_t *saved = json_load_file(path, 0, NULL);
	const char *text = NULL, *description = "";
	if (saved == NULL ||
	    json_unpack(saved, "{s:s, s?s}", "macro", &text, "description", &description) < 0) {
		json_decref(saved);
		return NULL;
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "name", name, "macro", text, "description",
	                      description, "builtin", 0);
	json_decref(saved);
	return o;
}

json_t *gd_macros_get(struct gd_macros *macros, const char *name)
{
	const struct builtin *b = find_builtin(name);
	if (b != NULL)
		return json_pack("{s:s, s:s, s:s, s:b}", "name", b->name, "macro", b->macro,
		                 "description", b->description, "builtin", 1);
	if (!gd_macros_name_valid(name))
		return NULL;
	pthread_mutex_lock(&macros->lock);
	json_t *o = load_saved(macros, name);
	pthread_mutex_unlock(&macros->lock);
	return o;
}

static void append_saved(struct gd_macros *m, json_t *list)
{
	struct dirent **entries;
	int n = scandir(m->dir, &entries, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char name[80];
		size_t len = strlen(entries[i]->d_name);
		if (len > 5 && len < sizeof(name) &&
		    strcmp(entries[i]->d_name + len - 5, ".json") == 0) {
			snprintf(name, sizeof(name), "%.*s", (int)(len - 5), entries[i]->d_name);
			json_t *o = gd_macros_name_valid(name) ? load_saved(m, name) : NULL;
			if (o != NULL) {
				json_object_del(o, "macro");
				json_array_append_new(list, o);
			}
		}
		free(entries[i]);
	}
	if (n >= 0)
		free(entries);
}

json_t *gd_macros_list(struct gd_macros *macros)
{
	json_t *list = json_array();
	for (size_t i = 0; i < BUILTIN_COUNT; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "name", builtins[i].name,
		                                      "description", builtins[i].description,
		                                      "builtin", 1));
	pthread_mutex_lock(&macros->lock);
	append_saved(macros, list);
	pthread_mutex_unlock(&macros->lock);
	return list;
}

int gd_macros_put(struct gd_macros *macros, const char *name, const char *text,
                  const char *description, char *err, size_t errlen)
{
	if (!gd_macros_name_valid(name)) {
		snprintf(err, errlen, "'%.64s' is not a valid macro name (1-64 of a-z 0-9 . _ -)",
		         name);
		return -EINVAL;
	}
	if (find_builtin(name) != NULL) {
		snprintf(err, errlen, "'%s' is a built-in macro", name);
		return -EPERM;
	}
	struct gd_macro *parsed;
	if (gd_macro_parse(text, strlen(text), &parsed, err, errlen) < 0)
		return -EINVAL;
	gd_macro_free(parsed);
	json_t *body = json_pack("{s:s, s:s}", "macro", text, "description", description);
	char path[PATH_MAX + 80];
	macro_path(macros, name, path, sizeof(path));
	pthread_mutex_lock(&macros->lock);
	int rc = body ? gd_json_save(path, body, 0644) : -ENOMEM;
	pthread_mutex_unlock(&macros->lock);
	json_decref(body);
	if (rc < 0)
		snprintf(err, errlen, "saving macro '%s': %s", name, strerror(-rc));
	return rc;
}

int gd_macros_delete(struct gd_macros *macros, const char *name)
{
	if (find_builtin(name) != NULL)
		return -EPERM;
	if (!gd_macros_name_valid(name))
		return -ENOENT;
	char path[PATH_MAX + 80];
	macro_path(macros, name, path, sizeof(path));
	pthread_mutex_lock(&macros->lock);
	int rc = unlink(path) == 0 ? 0 : -errno;
	pthread_mutex_unlock(&macros->lock);
	return rc;
}
