/*
 * firmware: the server's firmware and OS installer in the VM rig, driven by what a real one
 * gets: the power state of the simulated motherboard (atx-sim's /run/atx-sim/state, and its
 * reset count in /run/atx-sim/resets), the gadget's USB keyboard (read, never grabbed: the
 * observer reads it too), its drive and answer-file disk. It only writes to /dev/ttyACM0 (the
 * console; the getty there keeps running) and reports JSON lines like the observer's.
 *
 * Armed while /run/firmware/enabled exists (checked at each power-on). Then, at power-on: a
 * POST banner, a boot-menu window (/run/firmware/menu_window_s, default 5 s) in which the first
 * F12 press opens the menu (later F12s are ignored); without F12, or choosing "disk", it boots
 * the internal disk (/srv/server-disk/installed, the "installed OS"). Choosing the USB CD
 * mounts the gadget's drive, reads /GADGETD.ID (the installer's image id), looks for an answer
 * file on a FAT disk of the gadget (ks.cfg, user-data, preseed.cfg, autounattend.xml) for a
 * hostname, reads boot parameters typed at "boot: " (US layout, Enter ends, timeout
 * /run/firmware/params_timeout_s, default 60 s; a hostname=NAME there beats the answer
 * file's), "installs" (writes the marker) and shows a login prompt. The menu starts on the
 * internal disk (the default boot device); Up and Down wrap around, Enter boots, Esc boots the
 * disk. After a failed boot it halts. Power off aborts at any point (mounts are detached); a
 * reset while on aborts and POSTs again.
 *
 * Events, one JSON line per write(2), "source":"firmware", "ts" in CLOCK_REALTIME seconds:
 *   power_on; power_off; reset
 *   menu {"entries":["cdrom","disk"],"selected":"disk"}; selected {"entry":"cdrom"|"disk"}
 *   boot {"from":"disk","os":ID|null,"hostname":NAME|null}
 *   boot {"from":"cdrom","image":ID,"device":"/dev/sr0"}
 *   seed {"found":true,"device","label","file","hostname":NAME|null} or {"found":false} (with
 *        "device" and "label" when a FAT disk holds no answer file)
 *   prompt {"prompt":"boot: "}; boot_params {"params"}
 *   installed {"image","hostname","params"}; login {"hostname"}
 *   boot_failed {"reason": "no medium"|"unreadable medium"|"not an installer"|
 *                "no boot parameters"|"cannot write the disk"}
 *
 * Usage: firmware OUTPUT       (OUTPUT: the virtio port, or "-" for standard output)
 *        firmware --seed DIR  (prints what the answer file in DIR says, for the tests)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/cdrom.h>
#include <linux/fs.h>
#include <linux/input.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ATX_STATE  "/run/atx-sim/state"
#define ATX_RESETS "/run/atx-sim/resets"
#define CTL        "/run/firmware/"
#define CD_DIR     CTL "mnt/cd"
#define SEED_DIR   CTL "mnt/seed"
#define OS_DIR     "/srv/server-disk"
#define OS_MARKER  OS_DIR "/installed"
#define TTY        "/dev/ttyACM0"
#define TICK_MS    50  /* how often the power state is polled */
#define NAME_MAX_  64  /* hostnames and image ids */
#define LINE_MAX_  256 /* boot parameters */
#define FILE_MAX   (64 << 10)
#define BANNER     "\r\ngadgetd-rig firmware: press F12 for boot menu\r\n"

/* Results of the waits; negative: the board stopped what it was doing. */
enum { STOP_OFF = -1, STOP_RESET = -2 };
enum entry { ENTRY_CDROM, ENTRY_DISK };
static const char *const entry_names[] = {"cdrom", "disk"};

struct fw {
	int out;               /* the event stream */
	int keys;              /* read end of the keyboard reader's pipe: struct key records */
	bool on;               /* the board was on at the last poll */
	long resets;           /* its reset count at the last poll */
	bool shift;            /* a shift key is down */
	char image[NAME_MAX_]; /* the installer being run */
};

/* A key event as the reader passes it on: presses (1) and releases (0), no auto-repeat. */
struct key {
	uint16_t code;
	int32_t value;
};

/* ---- events and the console -------------------------------------------------------------- */

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes EVENT's fields after "source" and before "ts" as one line; consumes EVENT. */
static void emit(const struct fw *fw, json_t *event)
{
	json_t *line = json_pack("{s:s}", "source", "firmware");
	if (line == NULL || event == NULL || json_object_update(line, event) < 0) {
		fprintf(stderr, "firmware: cannot build an event\n");
		json_decref(line);
		json_decref(event);
		return;
	}
	json_decref(event);
	json_object_set_new(line, "ts", json_real(clock_s(CLOCK_REALTIME)));
	char *text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(16));
	json_decref(line);
	char *buf = NULL;
	int n = text != NULL ? asprintf(&buf, "%s\n", text) : -1;
	if (n > 0 && write(fw->out, buf, (size_t)n) != n)
		perror("firmware: event");
	free(buf);
	free(text);
}

static void emit_simple(const struct fw *fw, const char *event)
{
	emit(fw, json_pack("{s:s}", "event", event));
}

static json_t *string_or_null(const char *s)
{
	return s != NULL && s[0] ? json_string(s) : json_null();
}

/* Prints to the server's console if it has one; the port may be absent (unplugged). */
static void say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	int fd = open(TTY, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, buf, (size_t)n) < 0 && errno != EAGAIN)
		fprintf(stderr, "firmware: " TTY ": %s\n", strerror(errno));
	close(fd);
}

/* ---- small files --------------------------------------------------------------------------- */

/* The first line of PATH without its newline and surrounding blanks; -1 if unreadable. */
static int read_line_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	bool got = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (!got)
		buf[0] = '\0';
	size_t n = strcspn(buf, "\r\n");
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	size_t lead = strspn(buf, " \t");
	memmove(buf, buf + lead, n - lead + 1);
	return 0;
}

/* A positive number of seconds from CTL NAME, else DEFAULT_S. */
static double setting(const char *name, double default_s)
{
	char path[128], buf[32];
	snprintf(path, sizeof(path), CTL "%s", name);
	if (read_line_file(path, buf, sizeof(buf)) < 0)
		return default_s;
	char *end;
	double v = strtod(buf, &end);
	return end != buf && v > 0 && v < 3600 ? v : default_s;
}

static bool armed(void)
{
	return access(CTL "enabled", F_OK) == 0;
}

static bool board_on(void)
{
	char buf[16];
	return read_line_file(ATX_STATE, buf, sizeof(buf)) == 0 && strcmp(buf, "on") == 0;
}

static long board_resets(void)
{
	char buf[32];
	return read_line_file(ATX_RESETS, buf, sizeof(buf)) == 0 ? strtol(buf, NULL, 10) : 0;
}

/* Reads at most FILE_MAX bytes of PATH into a NUL-terminated buffer (free it), or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	char *buf = malloc(FILE_MAX + 1);
	size_t n = buf != NULL ? fread(buf, 1, FILE_MAX, f) : 0;
	fclose(f);
	if (buf != NULL)
		buf[n] = '\0';
	return buf;
}

/* ---- the keyboard -------------------------------------------------------------------------- */

/* /dev/input/eventN of the input device whose name contains "gadgetd"; -1 if none. */
static int open_keyboard(void)
{
	DIR *d = opendir("/sys/class/input");
	if (d == NULL)
		return -1;
	int fd = -1;
	for (struct dirent *e = readdir(d); e != NULL && fd < 0; e = readdir(d)) {
		char path[300], name[128];
		if (strncmp(e->d_name, "event", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/class/input/%s/device/name", e->d_name);
		if (read_line_file(path, name, sizeof(name)) < 0 || strstr(name, "gadgetd") == NULL)
			continue;
		snprintf(path, sizeof(path), "/dev/input/%s", e->d_name);
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			fprintf(stderr, "firmware: %s: %s\n", path, strerror(errno));
	}
	closedir(d);
	return fd;
}

/* Passes FD's key presses and releases on to the pipe; false when the device went away. */
static bool forward_keys(int fd, int pipe_fd)
{
	struct input_event ev[64];
	for (;;) {
		ssize_t n = read(fd, ev, sizeof(ev));
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return false;
		for (size_t i = 0; i < (size_t)n / sizeof(ev[0]); i++) {
			if (ev[i].type != EV_KEY || ev[i].value == 2)
				continue;
			struct key k = {.code = ev[i].code, .value = ev[i].value};
			/* Full: no one has read keys for 8000 presses. Dropped, like a full
			 * keyboard buffer. */
			if (write(pipe_fd, &k, sizeof(k)) < 0 && errno != EAGAIN)
				perror("firmware: key pipe");
		}
	}
}

/* The keyboard controller: a thread that reads the keyboard whenever it exists (it comes and
 * goes with each enumeration) so that keys typed while the firmware is busy are kept. */
static void *keyboard_reader(void *arg)
{
	int pipe_fd = *(int *)arg;
	struct sched_param prio = {.sched_priority = 40};
	if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &prio) != 0)
		fprintf(stderr, "firmware: SCHED_FIFO refused\n");
	int fd = -1;
	for (;;) {
		if (fd < 0 && (fd = open_keyboard()) < 0) {
			usleep(200000);
			continue;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 1000) < 0 && errno != EINTR)
			perror("firmware: poll");
		if (!forward_keys(fd, pipe_fd)) {
			close(fd);
			fd = -1;
		}
	}
	return NULL;
}

/* What the US layout types for CODE, or 0. */
static char us_char(unsigned code, bool shift)
{
	static const char *const rows[][2] = {
	    {"1234567890-=", "!@#$%^&*()_+"},  /* KEY_1 .. KEY_EQUAL */
	    {"qwertyuiop[]", "QWERTYUIOP{}"},  /* KEY_Q .. KEY_RIGHTBRACE */
	    {"asdfghjkl;'`", "ASDFGHJKL:\"~"}, /* KEY_A .. KEY_GRAVE */
	    {"\\zxcvbnm,./", "|ZXCVBNM<>?"},   /* KEY_BACKSLASH .. KEY_SLASH */
	};
	static const unsigned first[] = {KEY_1, KEY_Q, KEY_A, KEY_BACKSLASH};
	if (code == KEY_SPACE)
		return ' ';
	for (size_t r = 0; r < sizeof(first) / sizeof(first[0]); r++) {
		size_t len = strlen(rows[r][0]);
		if (code >= first[r] && code < first[r] + len)
			return rows[r][shift][code - first[r]];
	}
	return 0;
}

/* ---- waiting, with the board watched ------------------------------------------------------- */

/* STOP_OFF or STOP_RESET if the board went off or was reset since the last poll, else 0. */
static int board_changed(struct fw *fw)
{
	if (!board_on()) {
		fw->on = false;
		return STOP_OFF;
	}
	long resets = board_resets();
	if (resets != fw->resets) {
		fw->resets = resets;
		return STOP_RESET;
	}
	return 0;
}

static void drain_keys(struct fw *fw)
{
	struct key k;
	while (read(fw->keys, &k, sizeof(k)) == (ssize_t)sizeof(k))
		;
	fw->shift = false;
}

/* The next key press (not a shift) before DEADLINE (monotonic seconds, 0: none): 1 with K set,
 * 0 at the deadline, or a STOP_ value. */
static int next_key(struct fw *fw, double deadline, struct key *k)
{
	for (;;) {
		int stop = board_changed(fw);
		if (stop < 0)
			return stop;
		double now = clock_s(CLOCK_MONOTONIC);
		if (deadline > 0 && now >= deadline)
			return 0;
		int wait_ms = TICK_MS;
		if (deadline > 0 && (deadline - now) * 1000 < wait_ms)
			wait_ms = (int)((deadline - now) * 1000) + 1;
		struct pollfd p = {.fd = fw->keys, .events = POLLIN};
		if (poll(&p, 1, wait_ms) <= 0)
			continue;
		if (read(fw->keys, k, sizeof(*k)) != (ssize_t)sizeof(*k))
			continue;
		if (k->code == KEY_LEFTSHIFT || k->code == KEY_RIGHTSHIFT)
			fw->shift = k->value != 0;
		else if (k->value == 1)
			return 1;
	}
}

/* Waits SECONDS unless the board stops it: 0 or a STOP_ value. */
static int pause_for(struct fw *fw, double seconds)
{
	double deadline = clock_s(CLOCK_MONOTONIC) + seconds;
	struct key k;
	int rc;
	while ((rc = next_key(fw, deadline, &k)) == 1)
		;
	return rc;
}

/* Reads a line typed on the keyboard until Enter: 1, 0 at the timeout, or a STOP_ value. */
static int read_typed_line(struct fw *fw, double timeout_s, char *buf, size_t len)
{
	double deadline = clock_s(CLOCK_MONOTONIC) + timeout_s;
	size_t n = 0;
	buf[0] = '\0';
	struct key k;
	int rc;
	while ((rc = next_key(fw, deadline, &k)) == 1) {
		if (k.code == KEY_ENTER || k.code == KEY_KPENTER)
			return 1;
		if (k.code == KEY_BACKSPACE && n > 0) {
			buf[--n] = '\0';
			continue;
		}
		char c = us_char(k.code, fw->shift);
		if (c != 0 && n + 1 < len) {
			buf[n++] = c;
			buf[n] = '\0';
		}
	}
	return rc;
}

/* ---- the gadget's disks as the server sees them --------------------------------------------- */

/* Whether block device NAME is the gadget's: its SCSI vendor is "gadgetd". MODEL gets its
 * model ("Virtual Media" for the drive, "Answer Files" for the answer-file disk). */
static bool gadget_disk(const char *name, char *model, size_t len)
{
	char path[300], vendor[32];
	snprintf(path, sizeof(path), "/sys/class/block/%s/device/vendor", name);
	if (read_line_file(path, vendor, sizeof(vendor)) < 0 || strcmp(vendor, "gadgetd") != 0)
		return false;
	snprintf(path, sizeof(path), "/sys/class/block/%s/device/model", name);
	return read_line_file(path, model, len) == 0;
}

/* /dev/NAME of the gadget's drive (the installer's), or "" if the server sees none. */
static void find_drive(char *dev, size_t len)
{
	dev[0] = '\0';
	DIR *d = opendir("/sys/class/block");
	if (d == NULL)
		return;
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
		char model[64];
		if (e->d_name[0] != '.' && gadget_disk(e->d_name, model, sizeof(model)) &&
		    strcmp(model, "Virtual Media") == 0) {
			snprintf(dev, len, "/dev/%.40s", e->d_name);
			break;
		}
	}
	closedir(d);
}

/* Whether DEV holds a medium. O_NONBLOCK: no door lock, no wait for a disc. */
static bool has_medium(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	int drive = ioctl(fd, CDROM_DRIVE_STATUS, CDSL_CURRENT);
	uint64_t size = 0;
	bool present =
	    (drive < 0 || drive == CDS_DISC_OK) && ioctl(fd, BLKGETSIZE64, &size) == 0 && size > 0;
	close(fd);
	return present;
}

/* Whether DEV starts with a FAT boot sector; LABEL gets its volume label ("" for none). Read
 * past the page cache, which may still hold a previous medium. */
static bool fat_label(const char *dev, char *label, size_t len)
{
	int fd = open(dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_DIRECT);
	if (fd < 0 && errno == EINVAL)
		fd = open(dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	unsigned char *sector = NULL;
	bool fat = false;
	if (posix_memalign((void **)&sector, 4096, 4096) == 0 && read(fd, sector, 4096) >= 512 &&
	    sector[510] == 0x55 && sector[511] == 0xaa) {
		bool fat32 = memcmp(sector + 82, "FAT32", 5) == 0;
		fat = fat32 || memcmp(sector + 54, "FAT", 3) == 0;
		const char *raw = (const char *)sector + (fat32 ? 71 : 43);
		int n = 11;
		while (n > 0 && raw[n - 1] == ' ')
			n--;
		snprintf(label, len, "%.*s", n, raw);
		if (strcmp(label, "NO NAME") == 0)
			label[0] = '\0';
	}
	free(sector);
	close(fd);
	return fat;
}

/* The first FAT disk of the gadget other than its drive, with a medium: /dev/NAME in DEV and
 * its label; false if none. */
static bool find_seed_disk(char *dev, size_t len, char *label, size_t label_len)
{
	DIR *d = opendir("/sys/class/block");
	if (d == NULL)
		return false;
	bool found = false;
	for (struct dirent *e = readdir(d); e != NULL && !found; e = readdir(d)) {
		char model[64];
		if (e->d_name[0] == '.' || !gadget_disk(e->d_name, model, sizeof(model)) ||
		    strcmp(model, "Virtual Media") == 0)
			continue;
		snprintf(dev, len, "/dev/%.40s", e->d_name);
		found = has_medium(dev) && fat_label(dev, label, label_len);
	}
	closedir(d);
	return found;
}

static int mount_ro(const char *dev, const char *dir, const char *const *types)
{
	if (mkdir(CTL "mnt", 0755) < 0 && errno != EEXIST)
		return -1;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	for (; *types != NULL; types++)
		if (mount(dev, dir, *types, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) ==
		    0)
			return 0;
	fprintf(stderr, "firmware: mounting %s: %s\n", dev, strerror(errno));
	return -1;
}

/* Detaches both mount points whatever their state: nothing stays mounted or busy. */
static void unmount_all(void)
{
	umount2(CD_DIR, MNT_DETACH);
	umount2(SEED_DIR, MNT_DETACH);
}

/* ---- answer files: the hostname they set ---------------------------------------------------- */

/* Copies the name at S (up to a blank, quote, '<' or the end) into OUT. */
static void copy_name(const char *s, char *out, size_t len)
{
	s += strspn(s, " \t\"'");
	size_t n = strcspn(s, " \t\r\n\"'<#");
	snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), s);
}

/* Kickstart: network ... --hostname=NAME (or --hostname NAME). */
static void hostname_ks(const char *text, char *out, size_t len)
{
	for (const char *line = text; line != NULL && *line; line = strchr(line, '\n')) {
		line += strspn(line, "\n \t");
		const char *end = line + strcspn(line, "\n");
		const char *opt = strstr(line, "--hostname");
		if (strncmp(line, "network", 7) == 0 && opt != NULL && opt < end) {
			copy_name(opt + 10 + strspn(opt + 10, "= \t"), out, len);
			return;
		}
	}
}

/* cloud-init and Ubuntu autoinstall: a "hostname: NAME" line, at the top or under identity:. */
static void hostname_user_data(const char *text, char *out, size_t len)
{
	for (const char *line = text; line != NULL && *line; line = strchr(line, '\n')) {
		line += strspn(line, "\n \t");
		if (strncmp(line, "hostname:", 9) == 0) {
			copy_name(line + 9, out, len);
			return;
		}
	}
}

/* Debian preseed: d-i netcfg/get_hostname string NAME. */
static void hostname_preseed(const char *text, char *out, size_t len)
{
	for (const char *line = text; line != NULL && *line; line = strchr(line, '\n')) {
		line += strspn(line, "\n \t");
		char owner[16], key[64], type[16], value[NAME_MAX_];
		if (sscanf(line, "%15s %63s %15s %63s", owner, key, type, value) == 4 &&
		    strcmp(key, "netcfg/get_hostname") == 0 && strcmp(type, "string") == 0) {
			copy_name(value, out, len);
			return;
		}
	}
}

/* Windows Setup: <ComputerName>NAME</ComputerName>. */
static void hostname_unattend(const char *text, char *out, size_t len)
{
	const char *tag = strstr(text, "<ComputerName>");
	if (tag != NULL)
		copy_name(tag + 14, out, len);
}

static const struct answer_file {
	const char *name;
	void (*hostname)(const char *text, char *out, size_t len);
} answer_files[] = {
    {"ks.cfg", hostname_ks},
    {"user-data", hostname_user_data},
    {"preseed.cfg", hostname_preseed},
    {"autounattend.xml", hostname_unattend},
};

/* The first answer file in DIR: its entry, HOSTNAME ("" if it sets none); NULL if none. */
static const struct answer_file *read_answer_file(const char *dir, char *hostname, size_t len)
{
	hostname[0] = '\0';
	for (size_t i = 0; i < sizeof(answer_files) / sizeof(answer_files[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, answer_files[i].name);
		char *text = slurp(path);
		if (text == NULL)
			continue;
		answer_files[i].hostname(text, hostname, len);
		free(text);
		return &answer_files[i];
	}
	return NULL;
}

/* ---- booting -------------------------------------------------------------------------------- */

/* Waits until the board goes off or is reset; returns which. */
static int halt(struct fw *fw)
{
	int rc;
	while ((rc = pause_for(fw, 3600)) == 0)
		;
	return rc;
}

static void show_menu(bool cdrom, int selected)
{
	say("\r\nBoot menu (Up/Down to move, Enter to boot):\r\n");
	int number = 1;
	if (cdrom)
		say(" %s %d. USB CD-ROM (gadgetd Virtual Media)\r\n",
		    selected == ENTRY_CDROM ? ">" : " ", number++);
	say(" %s %d. Internal disk\r\n", selected == ENTRY_DISK ? ">" : " ", number);
}

/* The boot menu: returns the entry chosen or a STOP_ value. */
static int boot_menu(struct fw *fw)
{
	char dev[64];
	find_drive(dev, sizeof(dev));
	bool cdrom = dev[0] && has_medium(dev);
	int selected = ENTRY_DISK;
	json_t *entries = cdrom ? json_pack("[s,s]", "cdrom", "disk") : json_pack("[s]", "disk");
	emit(fw, json_pack("{s:s, s:o, s:s}", "event", "menu", "entries", entries, "selected",
	                   entry_names[selected]));
	show_menu(cdrom, selected);
	struct key k;
	int rc;
	while ((rc = next_key(fw, 0, &k)) == 1) {
		if (k.code == KEY_UP || k.code == KEY_DOWN) {
			if (cdrom) { /* two entries: either key moves to the other, wrapping */
				selected = selected == ENTRY_DISK ? ENTRY_CDROM : ENTRY_DISK;
				show_menu(cdrom, selected);
			}
		} else if (k.code == KEY_ENTER || k.code == KEY_KPENTER || k.code == KEY_ESC) {
			if (k.code == KEY_ESC)
				selected = ENTRY_DISK;
			emit(fw, json_pack("{s:s, s:s}", "event", "selected", "entry",
			                   entry_names[selected]));
			return selected;
		}
	}
	return rc;
}

/* The POST window: the entry to boot, or a STOP_ value. The first F12 opens the menu. */
static int boot_window(struct fw *fw)
{
	double deadline = clock_s(CLOCK_MONOTONIC) + setting("menu_window_s", 5);
	struct key k;
	int rc;
	while ((rc = next_key(fw, deadline, &k)) == 1)
		if (k.code == KEY_F12)
			return boot_menu(fw);
	return rc == 0 ? ENTRY_DISK : rc;
}

static void boot_failed(struct fw *fw, const char *reason)
{
	say("Boot failed: %s\r\n", reason);
	emit(fw, json_pack("{s:s, s:s}", "event", "boot_failed", "reason", reason));
}

static void show_login(struct fw *fw, const char *hostname)
{
	say("\r\n%s login: ", hostname);
	emit(fw, json_pack("{s:s, s:s}", "event", "login", "hostname", hostname));
}

/* The internal disk: the OS the last install left there, if any. */
static int boot_disk(struct fw *fw)
{
	json_t *os = json_load_file(OS_MARKER, 0, NULL);
	const char *image = json_string_value(json_object_get(os, "image"));
	const char *hostname = json_string_value(json_object_get(os, "hostname"));
	emit(fw, json_pack("{s:s, s:s, s:o, s:o}", "event", "boot", "from", "disk", "os",
	                   string_or_null(image), "hostname", string_or_null(hostname)));
	if (image == NULL) {
		say("Internal disk: no OS\r\n");
	} else {
		say("Booting %s from the internal disk\r\n", image);
		show_login(fw, hostname != NULL && hostname[0] ? hostname : "localhost");
	}
	json_decref(os);
	return 0;
}

/* The answer-file disk, if the gadget has one: its hostname into HOSTNAME. */
static void read_seed(struct fw *fw, char *hostname, size_t len)
{
	char dev[64], label[16] = "";
	hostname[0] = '\0';
	static const char *const fat[] = {"vfat", NULL};
	if (!find_seed_disk(dev, sizeof(dev), label, sizeof(label)) ||
	    mount_ro(dev, SEED_DIR, fat) < 0) {
		emit(fw, json_pack("{s:s, s:b}", "event", "seed", "found", 0));
		return;
	}
	const struct answer_file *file = read_answer_file(SEED_DIR, hostname, len);
	umount2(SEED_DIR, MNT_DETACH);
	if (file == NULL) {
		emit(fw, json_pack("{s:s, s:b, s:s, s:s}", "event", "seed", "found", 0, "device",
		                   dev, "label", label));
		return;
	}
	say("Answer file: %s on %s (%s)\r\n", file->name, dev, label);
	emit(fw,
	     json_pack("{s:s, s:b, s:s, s:s, s:s, s:o}", "event", "seed", "found", 1, "device", dev,
	               "label", label, "file", file->name, "hostname", string_or_null(hostname)));
}

/* The hostname=NAME boot parameter, if given. */
static void param_hostname(const char *params, char *out, size_t len)
{
	for (const char *p = params; (p = strstr(p, "hostname=")) != NULL; p += 9)
		if (p == params || p[-1] == ' ' || p[-1] == '/') {
			copy_name(p + 9, out, len);
			return;
		}
}

/* Writes the installed OS's marker on the server's disk (atomically): one JSON line. */
static int write_marker(const char *image, const char *hostname, const char *params)
{
	if (mkdir(OS_DIR, 0755) < 0 && errno != EEXIST)
		return -1;
	json_t *os =
	    json_pack("{s:s, s:s, s:s}", "image", image, "hostname", hostname, "params", params);
	char *text = os != NULL ? json_dumps(os, JSON_COMPACT) : NULL;
	json_decref(os);
	FILE *f = text != NULL ? fopen(OS_MARKER ".tmp", "w") : NULL;
	int rc = -1;
	if (f != NULL) {
		bool written = fprintf(f, "%s\n", text) > 0;
		if (fclose(f) == 0 && written && rename(OS_MARKER ".tmp", OS_MARKER) == 0)
			rc = 0;
	}
	free(text);
	if (rc < 0)
		perror("firmware: " OS_MARKER);
	return rc;
}

/* The installer, from boot: to the login prompt. */
static int install(struct fw *fw, const char *seed_hostname)
{
	char params[LINE_MAX_], hostname[NAME_MAX_] = "";
	say("boot: ");
	emit(fw, json_pack("{s:s, s:s}", "event", "prompt", "prompt", "boot: "));
	int rc = read_typed_line(fw, setting("params_timeout_s", 60), params, sizeof(params));
	if (rc <= 0) {
		if (rc == 0)
			boot_failed(fw, "no boot parameters");
		return rc;
	}
	say("%s\r\n", params);
	emit(fw, json_pack("{s:s, s:s}", "event", "boot_params", "params", params));
	param_hostname(params, hostname, sizeof(hostname));
	if (!hostname[0])
		snprintf(hostname, sizeof(hostname), "%s",
		         seed_hostname[0] ? seed_hostname : "server");
	say("Installing %s as %s...\r\n", fw->image, hostname);
	if ((rc = pause_for(fw, 1.0)) < 0)
		return rc;
	if (write_marker(fw->image, hostname, params) < 0) {
		boot_failed(fw, "cannot write the disk");
		return 0;
	}
	emit(fw, json_pack("{s:s, s:s, s:s, s:s}", "event", "installed", "image", fw->image,
	                   "hostname", hostname, "params", params));
	unmount_all();
	show_login(fw, hostname);
	return 0;
}

/* The gadget's drive: mounted, its image id read, the answer file looked for, installed. */
static int boot_cdrom(struct fw *fw)
{
	char dev[64], seed_hostname[NAME_MAX_];
	find_drive(dev, sizeof(dev));
	if (!dev[0] || !has_medium(dev)) {
		boot_failed(fw, "no medium");
		return 0;
	}
	static const char *const types[] = {"iso9660", "vfat", NULL};
	if (mount_ro(dev, CD_DIR, types) < 0) {
		boot_failed(fw, "unreadable medium");
		return 0;
	}
	if (read_line_file(CD_DIR "/GADGETD.ID", fw->image, sizeof(fw->image)) < 0 &&
	    read_line_file(CD_DIR "/gadgetd.id", fw->image, sizeof(fw->image)) < 0)
		fw->image[0] = '\0';
	if (!fw->image[0]) {
		unmount_all();
		boot_failed(fw, "not an installer");
		return 0;
	}
	say("Booting %s from %s\r\n", fw->image, dev);
	emit(fw, json_pack("{s:s, s:s, s:s, s:s}", "event", "boot", "from", "cdrom", "image",
	                   fw->image, "device", dev));
	read_seed(fw, seed_hostname, sizeof(seed_hostname));
	int rc = install(fw, seed_hostname);
	unmount_all();
	return rc;
}

/* From power-on (or a reset) until the board goes off or is reset: returns which. */
static int boot(struct fw *fw)
{
	drain_keys(fw); /* what was typed while off never reached a running machine */
	say(BANNER);
	int rc = boot_window(fw);
	if (rc >= 0)
		rc = rc == ENTRY_CDROM ? boot_cdrom(fw) : boot_disk(fw);
	return rc < 0 ? rc : halt(fw);
}

/* One powered-on period of the board, the firmware armed. */
static void run(struct fw *fw)
{
	emit_simple(fw, "power_on");
	int rc;
	while ((rc = boot(fw)) == STOP_RESET) {
		unmount_all();
		emit_simple(fw, "reset");
		if (!armed())
			return; /* disarmed meanwhile: silent until the next power-on */
	}
	unmount_all();
	emit_simple(fw, "power_off");
}

/* ---- main ----------------------------------------------------------------------------------- */

static int print_seed(const char *dir)
{
	char hostname[NAME_MAX_];
	const struct answer_file *file = read_answer_file(dir, hostname, sizeof(hostname));
	json_t *out = json_pack("{s:o, s:o}", "file", string_or_null(file ? file->name : NULL),
	                        "hostname", string_or_null(hostname));
	char *text = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	if (text == NULL)
		return 1;
	puts(text);
	free(text);
	return 0;
}

static int start_reader(struct fw *fw)
{
	static int pipe_fd[2];
	pthread_t thread;
	if (pipe2(pipe_fd, O_CLOEXEC | O_NONBLOCK) < 0) {
		perror("firmware: pipe");
		return -1;
	}
	fw->keys = pipe_fd[0];
	int rc = pthread_create(&thread, NULL, keyboard_reader, &pipe_fd[1]);
	if (rc != 0) {
		fprintf(stderr, "firmware: thread: %s\n", strerror(rc));
		return -1;
	}
	return pthread_detach(thread) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--seed") == 0)
		return print_seed(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: firmware OUTPUT | firmware --seed DIR\n");
		return 2;
	}
	struct fw fw = {.out = STDOUT_FILENO};
	if (strcmp(argv[1], "-") != 0 && (fw.out = open(argv[1], O_WRONLY | O_APPEND)) < 0) {
		perror(argv[1]);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((mkdir(CTL, 0755) < 0 && errno != EEXIST) || start_reader(&fw) < 0)
		return 1;
	fw.on = board_on(); /* already on: that power-on was missed, wait for the next */
	for (;;) {
		bool on = board_on();
		if (on && !fw.on) {
			fw.on = true;
			fw.resets = board_resets();
			if (armed())
				run(&fw);
		} else if (!on) {
			fw.on = false;
		}
		drain_keys(&fw); /* off, or on but not armed: no one reads the keys */
		usleep(TICK_MS * 1000);
	}
}
