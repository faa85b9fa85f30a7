/*
 * seed: the answer-file disk: a small FAT image with a volume label holding the files given,
 * made with dosfstools (mkfs.fat) and mtools (mcopy).
 */
#include "seed.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lun.h"

#define MIN_BYTES ((off_t)1 << 20)
#define ALIGN     ((off_t)64 << 10)

/* The tools' whole environment: mtools refuses an image whose geometry it doubts (ours is
 * fine), and messages are wanted in one language. The caller's PATH still finds them. */
static char *tool_env[] = {"MTOOLS_SKIP_CHECK=1", "LC_ALL=C", NULL};

/* Runs ARGV (a tool from PATH), its output into a pipe; 0, or -EIO with what it said in ERR. */
static int run(char *const argv[], char *err, size_t errlen)
{
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, tool_env);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	char said[256] = "";
	size_t got = 0;
	ssize_t n;
	while ((n = read(out[0], said + got, sizeof(said) - 1 - got)) > 0 && got < sizeof(said) - 1)
		got += (size_t)n;
	said[got] = '\0';
	close(out[0]);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s (install %s)", argv[0], strerror(rc),
		         strcmp(argv[0], "mkfs.fat") == 0 ? "dosfstools" : "mtools");
		return -rc;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	said[strcspn(said, "\n")] = '\0';
	snprintf(err, errlen, "%s failed: %s", argv[0], said[0] ? said : "no message");
	return -EIO;
}

static off_t image_size(json_t *files)
{
	off_t total = 0;
	const char *name;
	json_t *text;
	json_object_foreach(files, name, text)
	{
		/* Each file takes whole clusters (at most 4 KiB here) and a directory entry. */
		total += (off_t)json_string_length(text) + 8192;
	}
	off_t size = total * 2 > MIN_BYTES ? total * 2 : MIN_BYTES;
	return (size + ALIGN - 1) / ALIGN * ALIGN;
}

/* Writes TEXT to a file in DIR and copies it into IMAGE's root as NAME. */
static int add_file(const char *image, const char *dir, const char *name, json_t *text, char *err,
                    size_t errlen)
{
	char src[PATH_MAX], dest[80];
	snprintf(src, sizeof(src), "%s/file", dir);
	snprintf(dest, sizeof(dest), "::%s", name);
	int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	size_t len = json_string_length(text);
	ssize_t n = write(fd, json_string_value(text), len);
	int rc = n == (ssize_t)len ? 0 : -EIO;
	close(fd);
	if (rc == 0) {
		char *const argv[] = {"mcopy", "-o", "-i", (char *)image, src, dest, NULL};
		rc = run(argv, err, errlen);
	}
	unlink(src);
	return rc;
}

static int fill(const char *tmp, const char *label, json_t *files, char *err, size_t errlen)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(e));
		return -e;
	}
	int rc = ftruncate(fd, image_size(files)) < 0 ? -errno : 0;
	close(fd);
	char *const mkfs[] = {"mkfs.fat", "-F", "12", "-n", (char *)label, (char *)tmp, NULL};
	if (rc == 0)
		rc = run(mkfs, err, errlen);
	char dir[] = "/tmp/gadgetd-seed-XXXXXX";
	if (rc < 0)
		return rc;
	if (mkdtemp(dir) == NULL)
		return -errno;
	const char *name;
	json_t *text;
	json_object_foreach(files, name, text)
	{
		rc = add_file(tmp, dir, name, text, err, errlen);
		if (rc < 0)
			break;
	}
	rmdir(dir);
	return rc;
}

int gd_seed_build(const char *path, const char *label, json_t *files, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	int rc = fill(tmp, label, files, err, errlen);
	if (rc == 0 && rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	}
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int gd_seed_insert(const char *lun_dir, const char *path, const char *label, json_t *files,
                   char *err, size_t errlen)
{
	/* The LUN lets go of the old image before a new one takes its name. */
	int rc = gd_lun_eject(lun_dir, NULL, err, errlen);
	if (rc == 0)
		rc = gd_seed_build(path, label, files, err, errlen);
	struct stat st;
	if (rc == 0 && stat(path, &st) < 0)
		rc = -errno;
	if (rc == 0)
		rc = gd_lun_insert(lun_dir, path, (uint64_t)st.st_size, GD_LUN_DISK, true, NULL,
		                   err, errlen);
	return rc;
}

int gd_seed_eject(const char *lun_dir, const char *path, char *err, size_t errlen)
{
	int rc = gd_lun_eject(lun_dir, NULL, err, errlen);
	if (rc == 0 && unlink(path) < 0 && errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	}
	return rc;
}
