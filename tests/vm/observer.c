/*
 * observer: runs on the server side of the VM rig and reports, as JSON lines, what the
 * server saw of the gadget: enumeration and removal (with the devices it got) and every
 * key event from its keyboard. Wakes on kernel uevents, then reads sysfs.
 *
 * Usage: observer OUTPUT VENDOR:PRODUCT   (OUTPUT is the virtio port to the build machine)
 *        observer --now                   (prints the clock the events are stamped with)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libevdev/libevdev.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_KEYBOARDS 4

struct found {
	char usb[64];      /* sysfs name of the USB device, e.g. "1-1"; empty when absent */
	char keyboard[64]; /* /dev/input/eventN */
	char block[64];    /* /dev/sr0, /dev/sda */
	char tty[64];      /* /dev/ttyACM0 */
	int interfaces;    /* interfaces that still wait for their device node */
};

struct keyboard {
	char path[64];
	int fd;
	struct libevdev *dev;
};

static FILE *out;
static unsigned vendor, product;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void emit(json_t *event)
{
	if (json_object_get(event, "ts") == NULL)
		json_object_set_new(event, "ts", json_real(now_s()));
	char *line = json_dumps(event, JSON_COMPACT | JSON_REAL_PRECISION(16));
	if (line != NULL) {
		fprintf(out, "%s\n", line); /* flushed once per batch by the main loop */
	}
	free(line);
	json_decref(event);
}

static int read_hex(const char *dir, const char *name, unsigned *value)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	int rc = fscanf(f, "%x", value) == 1 ? 0 : -1;
	fclose(f);
	return rc;
}

static void read_str(const char *dir, const char *name, char *buf, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	if (fgets(buf, (int)len, f) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Walks DIR (real directories only, not symlinks) for the device nodes of one interface. */
static void walk(const char *dir, const char *parent, int depth, struct found *f)
{
	DIR *d = opendir(dir);
	if (d == NULL || depth > 7) {
		if (d)
			closedir(d);
		return;
	}
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (strncmp(e->d_name, "event", 5) == 0)
			snprintf(f->keyboard, sizeof(f->keyboard), "/dev/input/%.40s", e->d_name);
		else if (strcmp(parent, "block") == 0)
			snprintf(f->block, sizeof(f->block), "/dev/%.40s", e->d_name);
		else if (strcmp(parent, "tty") == 0 && strncmp(e->d_name, "ttyACM", 6) == 0)
			snprintf(f->tty, sizeof(f->tty), "/dev/%.40s", e->d_name);
		char sub[1024];
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		walk(sub, e->d_name, depth + 1, f);
	}
	closedir(d);
}

/* Finds the gadget on the host side and what the host made of each of its interfaces. */
static void scan(struct found *f)
{
	memset(f, 0, sizeof(*f));
	const char *root = "/sys/bus/usb/devices";
	DIR *d = opendir(root);
	if (d == NULL)
		return;
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
		char dev[512];
		unsigned v, p;
		snprintf(dev, sizeof(dev), "%s/%s", root, e->d_name);
		if (strchr(e->d_name, ':') != NULL || read_hex(dev, "idVendor", &v) < 0 ||
		    read_hex(dev, "idProduct", &p) < 0 || v != vendor || p != product)
			continue;
		snprintf(f->usb, sizeof(f->usb), "%.40s", e->d_name);
		walk(dev, "", 0, f);
		/* Until the host sets a configuration the device has no interfaces yet. */
		unsigned expected;
		if (read_hex(dev, "bNumInterfaces", &expected) < 0 || expected == 0)
			expected = 1000;
		int listed = 0;
		/* Interfaces are "1-1:1.N"; each known class must have produced its node. */
		rewinddir(d);
		for (struct dirent *i = readdir(d); i != NULL; i = readdir(d)) {
			size_t n = strlen(f->usb);
			unsigned cls;
			char idir[512];
			snprintf(idir, sizeof(idir), "%s/%s", root, i->d_name);
			if (strncmp(i->d_name, f->usb, n) != 0 || i->d_name[n] != ':')
				continue;
			listed++;
			if (read_hex(idir, "bInterfaceClass", &cls) < 0 ||
			    (cls == 0x03 && !f->keyboard[0]) || (cls == 0x08 && !f->block[0]) ||
			    (cls == 0x02 && !f->tty[0]))
				f->interfaces++;
		}
		if ((unsigned)listed < expected)
			f->interfaces += (int)(expected - (unsigned)listed);
		break;
	}
	closedir(d);
}

static json_t *describe(const struct found *f)
{
	char dev[512], manufacturer[128], product_name[128], serial[128];
	snprintf(dev, sizeof(dev), "/sys/bus/usb/devices/%s", f->usb);
	read_str(dev, "manufacturer", manufacturer, sizeof(manufacturer));
	read_str(dev, "product", product_name, sizeof(product_name));
	read_str(dev, "serial", serial, sizeof(serial));
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "source", "usb", "event",
	                       "enumerated", "usb", f->usb, "manufacturer", manufacturer, "product",
	                       product_name, "serial", serial);
	char ids[16];
	snprintf(ids, sizeof(ids), "%04x:%04x", vendor, product);
	json_object_set_new(ev, "id", json_string(ids));
	json_object_set_new(ev, "keyboard",
	                    f->keyboard[0] ? json_string(f->keyboard) : json_null());
	json_object_set_new(ev, "block", f->block[0] ? json_string(f->block) : json_null());
	json_object_set_new(ev, "tty", f->tty[0] ? json_string(f->tty) : json_null());
	return ev;
}

static void close_keyboard(struct keyboard *k)
{
	libevdev_free(k->dev);
	if (k->fd >= 0)
		close(k->fd);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

static void open_keyboard(struct keyboard *k, const char *path)
{
	k->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0 || libevdev_new_from_fd(k->fd, &k->dev) < 0) {
		fprintf(stderr, "observer: %s: %s\n", path, strerror(errno));
		close_keyboard(k);
		return;
	}
	snprintf(k->path, sizeof(k->path), "%s", path);
	emit(json_pack("{s:s, s:s, s:s, s:s}", "source", "keyboard", "event", "attached", "device",
	               path, "name", libevdev_get_name(k->dev)));
}

static void read_keys(struct keyboard *k)
{
	struct input_event ev;
	int rc;
	while ((rc = libevdev_next_event(k->dev, LIBEVDEV_READ_FLAG_NORMAL, &ev)) >= 0) {
		if (rc == LIBEVDEV_READ_STATUS_SYNC) {
			/* The kernel's buffer overflowed: say so, so no one trusts a partial
			 * record. */
			emit(json_pack("{s:s, s:s}", "source", "keyboard", "event", "dropped"));
			while (libevdev_next_event(k->dev, LIBEVDEV_READ_FLAG_SYNC, &ev) ==
			       LIBEVDEV_READ_STATUS_SYNC)
				;
			continue;
		}
		if (ev.type == EV_KEY) {
			const char *name = libevdev_event_code_get_name(EV_KEY, ev.code);
			/* Stamped when the server's kernel got the key, not when it was read. */
			double ts = (double)ev.input_event_sec + (double)ev.input_event_usec / 1e6;
			emit(json_pack("{s:s, s:s, s:s, s:i, s:s, s:f}", "source", "keyboard",
			               "event", "key", "key", name ? name : "KEY_UNKNOWN", "value",
			               ev.value, "device", k->path, "ts", ts));
		} else if (ev.type == EV_LED) {
			const char *name = libevdev_event_code_get_name(EV_LED, ev.code);
			emit(json_pack("{s:s, s:s, s:s, s:i}", "source", "keyboard", "event", "led",
			               "led", name ? name : "LED_UNKNOWN", "value", ev.value));
		}
	}
	if (rc != -EAGAIN)
		close_keyboard(k); /* the device went away */
}

static int open_uevents(void)
{
	int fd =
	    socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = 1};
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("observer: uevent socket");
		exit(1);
	}
	return fd;
}

/* Reports changes between what was announced (SHOWN) and what sysfs shows now. */
static void update(struct found *shown, bool *announced, struct keyboard *kbd)
{
	struct found now;
	scan(&now);
	if (shown->usb[0] && strcmp(now.usb, shown->usb) != 0) {
		emit(json_pack("{s:s, s:s, s:s}", "source", "usb", "event", "removed", "usb",
		               shown->usb));
		*announced = false;
	}
	if (!*announced && now.usb[0] && now.interfaces == 0) {
		emit(describe(&now));
		*announced = true;
	}
	/* The keyboard is watched as soon as it exists: a BIOS needs it before the disk settles. */
	if (kbd->fd < 0 && now.keyboard[0])
		open_keyboard(kbd, now.keyboard);
	*shown = now;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--now") == 0) {
		printf("%.6f\n", now_s());
		return 0;
	}
	if (argc != 3 || sscanf(argv[2], "%x:%x", &vendor, &product) != 2) {
		fprintf(stderr, "usage: observer OUTPUT VENDOR:PRODUCT | observer --now\n");
		return 2;
	}
	out = fopen(argv[1], "w");
	if (out == NULL) {
		perror(argv[1]);
		return 1;
	}
	/* The kernel keeps only ~20 reports per evdev reader: read them before anyone else runs. */
	struct sched_param prio = {.sched_priority = 50};
	if (sched_setscheduler(0, SCHED_FIFO, &prio) < 0)
		perror("observer: SCHED_FIFO");
	int uev = open_uevents();
	struct found shown = {0};
	bool announced = false;
	struct keyboard kbd = {.fd = -1};
	emit(json_pack("{s:s, s:s}", "source", "observer", "event", "started"));
	fflush(out);
	bool rescan = true;
	for (;;) {
		/* sysfs is walked only when the kernel said something changed: key events stay
		 * cheap. */
		if (rescan)
			update(&shown, &announced, &kbd);
		fflush(out);
		struct pollfd fds[2] = {{.fd = uev, .events = POLLIN},
		                        {.fd = kbd.fd, .events = POLLIN}};
		int n = poll(fds, kbd.fd >= 0 ? 2 : 1, 1000);
		if (n < 0 && errno != EINTR)
			return 1;
		rescan = n == 0 || (fds[0].revents & POLLIN);
		if (fds[0].revents & POLLIN) {
			char buf[8192];
			while (recv(uev, buf, sizeof(buf), 0) > 0)
				;
		}
		if (kbd.fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
			read_keys(&kbd);
	}
}
