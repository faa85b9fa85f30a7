/* tls: the HTTPS certificate and key, loaded from PEM files or generated self-signed. */
#ifndef GD_TLS_H
#define GD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* "SHA256:" + 32 bytes as "AB:" minus the last colon + NUL = 103. */
#define GD_TLS_FINGERPRINT_SIZE 104

/* What libmicrohttpd takes (MHD_OPTION_HTTPS_MEM_CERT / MHD_OPTION_HTTPS_MEM_KEY). All owned by
 * the struct: release with gd_tls_free(), after MHD_stop_daemon(). */
struct gd_tls_material {
	char *cert_pem; /* the certificate, then any chain certificates from the file, as PEM */
	char *key_pem;  /* the private key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY") */
	/* SHA-256 of the DER certificate, "SHA256:AB:CD:..." (uppercase, colon-separated). */
	char fingerprint[GD_TLS_FINGERPRINT_SIZE];
	time_t not_after; /* end of the certificate's validity (clamped if time_t cannot hold it) */
	bool generated;   /* true if this call created the files */
};

/*
 * Fills OUT from the PEM files CERT_PATH and KEY_PATH (they may name the same file holding both).
 * Both exist: the first certificate is checked against the key; chain certificates after it are
 * kept. Neither exists and GENERATE: a self-signed certificate (EC P-256, SHA-256, CN and DNS
 * SAN = the host name, DNS:localhost, IP:127.0.0.1, 10 years) is written atomically (key 0600,
 * certificate 0644, a missing parent directory created 0700). Returns 0, or -errno (-ENOENT when
 * a file is missing, -EINVAL when one is invalid or they do not match) with a one-line message
 * naming the file in ERR; OUT is then empty. Never logs.
 */
int gd_tls_load(struct gd_tls_material *out, const char *cert_path, const char *key_path,
                bool generate, char *err, size_t errlen);

/* Wipes the key and frees everything; M is left empty. Safe on an empty or already freed M. */
void gd_tls_free(struct gd_tls_material *m);

#endif
