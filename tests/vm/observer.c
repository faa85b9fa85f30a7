/*
 * observer: runs on the server side of the VM rig and reports, as JSON lines, what the
 * server saw of the gadget: enumeration and removal (with the devices it got), every
 * key event from its keyboard, and each medium in its disk (size and sha256, read whole by
 * a forked child so that key events keep flowing) or its ejection. Wakes on kernel
 * uevents, then reads sysfs. Another child polls the disk while it holds a medium, as
 * udisks would: the kernel sees an ejection only when the disk is opened.
 *
 * Usage: observer OUTPUT VENDOR:PRODUCT   (OUTPUT is the virtio port to the build machine, or
 *                                         "-" for standard output: the port takes one opener)
 *        observer --now                   (prints the clock the events are stamped with)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libevdev/libevdev.h>
#include <linux/cdrom.h>
#include <linux/fs.h>
#include <linux/netlink.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_KEYBOARDS 4
#define OUT_BUF       32768         /* one write(2) to the virtio port is one buffer up to 32 KiB */
#define HASH_MAX      (512LL << 20) /* larger media are reported without a sha256 */
#define READ_CHUNK    (1 << 20)

struct found {
	char usb[64];      /* sysfs name of the USB device, e.g. "1-1"; empty when absent */
	char keyboard[64]; /* /dev/input/eventN */
	char block[64];    /* the drive (LUN 0): /dev/sr0, /dev/sda */
	char seed[64];     /* the answer-file disk (LUN 1): /dev/sdb */
	char tty[64];      /* /dev/ttyACM0 */
	int interfaces;    /* interfaces that still wait for their device node */
};

struct keyboard {
	char path[64];
	int fd;
	struct libevdev *dev;
};

/* What the disk's probes last reported. */
enum report { REPORT_NONE, REPORT_MEDIA, REPORT_EJECTED };

/* Exit statuses of a probe: what it wrote, if anything. */
enum { PROBE_FAILED = 1, PROBE_MEDIA = 10, PROBE_EJECTED = 11, PROBE_SILENT = 12 };

/* The gadget's disk as the server sees it. Reading a medium takes a while: a forked child
 * (the probe) does it and writes its event itself, while this process keeps reading keys.
 * The kernel numbers each media change (DISKSEQ): one probe per change, and none for a
 * change that a probe has already seen. */
struct disk {
	char device[64];              /* /dev/sr0; empty until the gadget is enumerated */
	bool dirty;                   /* a probe is due: a new disk */
	unsigned long long want_seq;  /* DISKSEQ of the last media change uevent */
	unsigned long long known_seq; /* the last DISKSEQ a probe has seen or will see */
	pid_t child;                  /* the probe running, or 0 */
	int pidfd;                    /* readable when the probe exits, or -1 */
	char probing[64];             /* the device the probe reads */
	enum report last;
	char polled[64]; /* the device the poller was told to poll, "" for none */
};

static FILE *out;
static size_t buffered;               /* bytes in OUT's buffer */
static int poller = -1;               /* pipe to the media poller */
static unsigned long long *probe_seq; /* shared with the probes: the DISKSEQ one saw */
static unsigned vendor, product;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* EVENT as one line (newline included), stamped now unless it has a ts; consumes EVENT. */
static char *format_line(json_t *event)
{
	if (json_object_get(event, "ts") == NULL)
		json_object_set_new(event, "ts", json_real(now_s()));
	char *json = json_dumps(event, JSON_COMPACT | JSON_REAL_PRECISION(16));
	json_decref(event);
	char *line = NULL;
	if (json != NULL && asprintf(&line, "%s\n", json) < 0)
		line = NULL;
	free(json);
	return line;
}

static void flush_out(void)
{
	fflush(out);
	buffered = 0;
}

static void emit(json_t *event)
{
	char *line = format_line(event);
	if (line != NULL) {
		/* Whole lines per write(2), so a probe's line never lands inside one. */
		size_t len = strlen(line);
		if (buffered + len > OUT_BUF)
			flush_out();
		fputs(line, out); /* flushed once per batch by the main loop */
		buffered += len;
	}
	free(line);
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

/* The SCSI LUN of a ".../H:C:T:L/block" directory (-1 if it is not one). */
static int lun_of(const char *block_dir)
{
	const char *end = strrchr(block_dir, '/');
	const char *colon = end ? end : block_dir;
	while (colon > block_dir && colon[-1] != ':' && colon[-1] != '/')
		colon--;
	return colon > block_dir && colon[-1] == ':' ? atoi(colon) : -1;
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
		else if (strcmp(parent, "block") == 0 && lun_of(dir) == 1)
			snprintf(f->seed, sizeof(f->seed), "/dev/%.40s", e->d_name);
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
	json_object_set_new(ev, "seed", f->seed[0] ? json_string(f->seed) : json_null());
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

/* In a probe: writes EVENT as one line with a single write(2). */
static void write_line(json_t *event)
{
	char *line = format_line(event);
	if (line != NULL && write(fileno(out), line, strlen(line)) < 0)
		perror("observer: write");
	free(line);
}

/* In a probe: feeds FD to CTX up to SIZE (only the first chunk when the medium is too large
 * to hash), bypassing the page cache, which may still hold the previous medium. */
static int read_device(int fd, long long size, EVP_MD_CTX *ctx)
{
	unsigned char *buf = NULL;
	if (posix_memalign((void **)&buf, 4096, READ_CHUNK) != 0)
		return -1;
	long long done = 0;
	while (done < size && (size <= HASH_MAX || done == 0)) {
		ssize_t n = read(fd, buf, READ_CHUNK);
		if (n <= 0) {
			fprintf(stderr, "observer: reading the disk at %lld: %s\n", done,
			        n < 0 ? strerror(errno) : "unexpected end");
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		done += n;
	}
	free(buf);
	return done == size || (size > HASH_MAX && done > 0) ? 0 : -1;
}

/* In a probe: reads the medium in FD; HEX gets its sha256 unless it is too large. */
static int hash_device(int fd, long long size, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
	             ? read_device(fd, size, ctx)
	             : -1;
	if (rc == 0 && size <= HASH_MAX && EVP_DigestFinal_ex(ctx, md, &md_len))
		for (unsigned i = 0; i < md_len && i < 32; i++)
			sprintf(hex + 2 * i, "%02x", md[i]);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* In a probe: the medium is gone (HAD: it was there when the probe began). */
static int no_medium(const struct disk *d, bool had)
{
	if (!had && d->last != REPORT_MEDIA)
		return PROBE_SILENT; /* nothing was reported in it: nothing to take back */
	write_line(json_pack("{s:s, s:s, s:s}", "source", "disk", "event", "ejected", "device",
	                     d->device));
	return PROBE_EJECTED;
}

/* In a probe: reports what D holds; returns the exit status. O_NONBLOCK: the open does not
 * lock the door, so the Pi side can still eject while the medium is read. */
static int probe(const struct disk *d)
{
	setpriority(PRIO_PROCESS, 0, 10);
	int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC;
	int fd = open(d->device, flags | O_DIRECT);
	if (fd < 0 && errno == EINVAL)
		fd = open(d->device, flags);
	if (fd < 0)
		return errno == ENOMEDIUM ? no_medium(d, false) : PROBE_FAILED;
	/* A CD drive says whether it holds a disc (its size stays that of the last one). */
	int drive = ioctl(fd, CDROM_DRIVE_STATUS, CDSL_CURRENT);
	uint64_t size = 0;
	bool present =
	    (drive < 0 || drive == CDS_DISC_OK) && ioctl(fd, BLKGETSIZE64, &size) == 0 && size > 0;
	/* Whatever changes after this gets a new number, and a new probe. */
	if (probe_seq != NULL && ioctl(fd, BLKGETDISKSEQ, probe_seq) < 0)
		*probe_seq = 0;
	if (!present)
		return no_medium(d, false);
	char hex[65] = "";
	if (hash_device(fd, (long long)size, hex) < 0)
		return no_medium(d, true);
	/* The medium was swapped while being read: the next probe reads the new one. */
	unsigned long long seq = 0;
	if (probe_seq != NULL && ioctl(fd, BLKGETDISKSEQ, &seq) == 0 && seq != *probe_seq)
		return PROBE_FAILED;
	json_t *ev = json_pack("{s:s, s:s, s:s, s:I}", "source", "disk", "event", "media", "device",
	                       d->device, "size", (json_int_t)size);
	json_object_set_new(ev, "sha256",
	                    (long long)size <= HASH_MAX ? json_string(hex) : json_null());
	write_line(ev);
	return PROBE_MEDIA;
}

/* The media poller (a child): opens DEVICE, as named by the last line read from FD, every
 * 250 ms: on that the kernel asks the disk whether it still has its medium, and if not
 * sends a media change uevent. O_NONBLOCK: no door lock. */
_Noreturn static void poll_media(int fd)
{
	char device[64] = "", buf[256];
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, device[0] ? 250 : -1) > 0) {
			ssize_t n = read(fd, buf, sizeof(buf) - 1);
			if (n <= 0)
				_exit(0);  /* the observer is gone */
			buf[n - 1] = '\0'; /* the last newline */
			const char *last = strrchr(buf, '\n');
			snprintf(device, sizeof(device), "%.63s", last ? last + 1 : buf);
			continue;
		}
		int d = open(device, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (d >= 0)
			close(d);
	}
}

static void start_poller(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("observer: pipe");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		poll_media(p[0]);
	}
	close(p[0]);
	if (pid < 0) {
		perror("observer: fork");
		close(p[1]);
		return;
	}
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	poller = p[1];
}

/* The poller polls the disk while it holds a reported medium: insertions the kernel sees
 * by itself. */
static void steer_poller(struct disk *d)
{
	const char *want = d->last == REPORT_MEDIA ? d->device : "";
	if (poller < 0 || strcmp(want, d->polled) == 0)
		return;
	char line[80];
	int n = snprintf(line, sizeof(line), "%s\n", want);
	if (write(poller, line, (size_t)n) == n)
		snprintf(d->polled, sizeof(d->polled), "%s", want);
}

static void start_probe(struct disk *d)
{
	flush_out(); /* the child must not inherit buffered lines */
	if (probe_seq != NULL)
		*probe_seq = 0;
	pid_t pid = fork();
	if (pid < 0) {
		perror("observer: fork");
		return;
	}
	if (pid == 0)
		_exit(probe(d)); /* SCHED_RESET_ON_FORK: the child is an ordinary process */
	d->child = pid;
	d->pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* else the 1 s poll reaps it */
	snprintf(d->probing, sizeof(d->probing), "%s", d->device);
	d->dirty = false;
	d->known_seq = d->want_seq;
}

static void reap_probe(struct disk *d)
{
	int status;
	if (d->child == 0 || waitpid(d->child, &status, WNOHANG) != d->child)
		return;
	if (d->pidfd >= 0)
		close(d->pidfd);
	d->child = 0;
	d->pidfd = -1;
	if (strcmp(d->probing, d->device) != 0)
		return; /* the disk went away meanwhile */
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : PROBE_FAILED;
	if (rc == PROBE_MEDIA)
		d->last = REPORT_MEDIA;
	else if (rc == PROBE_EJECTED)
		d->last = REPORT_EJECTED;
	/* The probe's own open may have found the change whose uevent is still to come. */
	if (probe_seq != NULL && *probe_seq > d->known_seq)
		d->known_seq = *probe_seq;
	steer_poller(d);
}

/* Follows the disk of the gadget the server has enumerated (BLOCK, "" if none). */
static void track_disk(struct disk *d, const char *block)
{
	if (strcmp(block, d->device) == 0)
		return;
	snprintf(d->device, sizeof(d->device), "%s", block);
	d->dirty = block[0] != '\0';
	d->last = REPORT_NONE;
	steer_poller(d);
}

static bool probe_due(const struct disk *d)
{
	return d->child == 0 && d->device[0] && (d->dirty || d->want_seq > d->known_seq);
}

/* Whether the uevent MSG (header, then NUL-separated KEY=VALUE) is a medium change (or the
 * appearance) of block device NAME; SEQ gets its DISKSEQ (0 if none). */
static bool media_uevent(const char *msg, size_t len, const char *name, unsigned long long *seq)
{
	const char *action = "", *devname = "";
	bool media = false;
	*seq = 0;
	for (size_t i = 0; i < len; i += strlen(msg + i) + 1) {
		const char *kv = msg + i;
		if (strncmp(kv, "ACTION=", 7) == 0)
			action = kv + 7;
		else if (strncmp(kv, "DEVNAME=", 8) == 0)
			devname = kv + 8;
		else if (strncmp(kv, "DISKSEQ=", 8) == 0)
			*seq = strtoull(kv + 8, NULL, 10);
		else if (strcmp(kv, "DISK_MEDIA_CHANGE=1") == 0)
			media = true;
	}
	return strcmp(devname, name) == 0 &&
	       (strcmp(action, "add") == 0 || (strcmp(action, "change") == 0 && media));
}

static void read_uevents(int fd, struct disk *d)
{
	char buf[8192];
	ssize_t n;
	unsigned long long seq;
	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		if (!d->device[0] ||
		    !media_uevent(buf, (size_t)n, strrchr(d->device, '/') + 1, &seq))
			continue;
		if (seq == 0)
			d->dirty = true; /* a kernel without DISKSEQ */
		else if (seq > d->want_seq)
			d->want_seq = seq;
	}
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
static void update(struct found *shown, bool *announced, struct keyboard *kbd, struct disk *disk)
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
	/* The disk once the gadget has settled: its media events follow "enumerated". */
	track_disk(disk, *announced ? now.block : "");
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
	out = strcmp(argv[1], "-") == 0 ? stdout : fopen(argv[1], "w");
	if (out == NULL || setvbuf(out, NULL, _IOFBF, OUT_BUF) != 0) {
		perror(argv[1]);
		return 1;
	}
	/* The kernel keeps only ~20 reports per evdev reader: read them before anyone else runs.
	 * Not so the probes, which hash whole media. */
	struct sched_param prio = {.sched_priority = 50};
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &prio) < 0)
		perror("observer: SCHED_FIFO");
	int uev = open_uevents();
	start_poller();
	probe_seq = mmap(NULL, sizeof(*probe_seq), PROT_READ | PROT_WRITE,
	                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (probe_seq == MAP_FAILED)
		probe_seq = NULL;
	struct found shown = {0};
	bool announced = false;
	struct keyboard kbd = {.fd = -1};
	struct disk disk = {.pidfd = -1};
	emit(json_pack("{s:s, s:s}", "source", "observer", "event", "started"));
	flush_out();
	bool rescan = true;
	for (;;) {
		/* sysfs is walked only when the kernel said something changed: key events stay
		 * cheap. */
		if (rescan)
			update(&shown, &announced, &kbd, &disk);
		reap_probe(&disk);
		if (probe_due(&disk))
			start_probe(&disk);
		flush_out();
		struct pollfd fds[3] = {{.fd = uev, .events = POLLIN},
		                        {.fd = kbd.fd, .events = POLLIN},
		                        {.fd = disk.pidfd, .events = POLLIN}};
		int n = poll(fds, 3, 1000); /* negative fds are skipped */
		if (n < 0 && errno != EINTR)
			return 1;
		rescan = n == 0 || (fds[0].revents & POLLIN);
		if (fds[0].revents & POLLIN)
			read_uevents(uev, &disk);
		if (kbd.fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
			read_keys(&kbd);
	}
}
