/*
 * usb-reset: resets a USB device from the host side (USBDEVFS_RESET), as a host port reset
 * does. The rig's server link uses it to leave the gadget in its "default" state, the state a
 * server that is off leaves it in: dummy_hcd's gadget leaves "configured" only on a bus reset.
 *
 * Usage: usb-reset /dev/bus/usb/BBB/DDD
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/usbdevice_fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: usb-reset /dev/bus/usb/BBB/DDD\n");
		return 2;
	}
	int fd = open(argv[1], O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "usb-reset: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	int rc = ioctl(fd, USBDEVFS_RESET, 0);
	if (rc < 0)
		fprintf(stderr, "usb-reset: %s: %s\n", argv[1], strerror(errno));
	close(fd);
	return rc < 0 ? 1 : 0;
}
