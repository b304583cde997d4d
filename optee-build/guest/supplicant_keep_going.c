/*
 * Preloaded into the emulated device's tee-supplicant (optee-build, image.rs).
 *
 * Since Linux's "tee: optee: Fix supplicant wait loop" and its follow-up (both
 * in the guest's 6.12 kernel), a client killed while tee-supplicant serves
 * one of its requests makes the supplicant's answer fail with EBADF: the
 * kernel has already dropped the request. tee-supplicant 4.5 treats every
 * failed answer as fatal and exits (optee_client issue 423, a fix proposed
 * upstream). In the guest a restarted supplicant then exited at once, over
 * and over, and every later secure-storage request of every client waited
 * for good: the whole TEE stalled (`cargo optee stress` with kills). This
 * reports such a failed send as a success, i.e. the answer is dropped,
 * which is what the kernel expects of a supplicant. Any other failure is
 * passed on unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/tee.h>
#include <stdarg.h>
#include <unistd.h>

typedef int (*ioctl_fn)(int, unsigned long, void *);

int ioctl(int fd, unsigned long request, ...)
{
	static ioctl_fn next;
	static const char dropped[] =
		"tee-supplicant: the client of a request is gone; its answer is dropped\n";
	va_list ap;
	void *arg;
	int rc;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!next)
		next = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	rc = next(fd, request, arg);
	if (rc == -1 && errno == EBADF && request == TEE_IOC_SUPPL_SEND) {
		if (write(STDERR_FILENO, dropped, sizeof(dropped) - 1) < 0) {
			/* Nothing to do: the message is only a diagnostic. */
		}
		errno = 0;
		return 0;
	}
	return rc;
}
