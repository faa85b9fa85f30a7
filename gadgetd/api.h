/* api: what every resource handler sees, and the table of routes http.c serves. */
#ifndef GD_API_H
#define GD_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "console.h"
#include "console_ws.h"
#include "gadget.h"
#include "keyboard.h"
#include "macros.h"
#include "media.h"
#include "power.h"
#include "session.h"
#include "throttle.h"
#include "tls.h"
#include "token.h"

/* A requester's name in logs and jobs: a user, or "token:" and a token's name. */
#define GD_API_USER_MAX 48

/* The modules a handler may use; owned by main.c, alive while the server runs. */
struct gd_http;
struct gd_boot;
struct gd_redfish;

struct gd_app {
	const struct gd_config *cfg;
	struct gd_gadget *gadget;
	struct gd_auth *auth;
	struct gd_keyboard *keyboard; /* NULL when the gadget has no keyboard */
	struct gd_macros *macros;
	struct gd_docstore *scripts; /* saved reinstall scripts */
	struct gd_jobs *script_jobs; /* their runs, one at a time */
	struct gd_media *media;
	struct gd_power *power; /* NULL without ATX lines */
	struct gd_boot *boot;   /* NULL without a keyboard */
	struct gd_redfish *redfish;
	bool power_led;                                /* the power LED line is wired */
	struct gd_console *console;                    /* NULL when the gadget has no serial port */
	struct gd_console_ws *console_ws;              /* the console's WebSocket sessions */
	struct gd_sessions *sessions;                  /* browser logins */
	struct gd_tokens *tokens;                      /* API tokens */
	struct gd_throttle *throttle;                  /* failed logins per client address */
	struct gd_http *http;                          /* the servers, once started */
	char tls_fingerprint[GD_TLS_FINGERPRINT_SIZE]; /* of the HTTPS certificate, or empty */
	struct timespec started;                       /* CLOCK_MONOTONIC */
};

/* Called when a connection is handed over after a 101: DONE(DONE_ARG) closes it, once. */
typedef void (*gd_api_upgrade_done)(void *done_arg);

/* How a handler that answers 101 (a WebSocket) takes the connection over. */
struct gd_api_upgrade {
	/* Runs once the 101 is out: 0, or -errno (DONE has not run: the server closes it). */
	int (*start)(struct gd_app *app, const char *user, bool read_only, uint64_t arg, int sock,
	             const void *extra, size_t extra_len, gd_api_upgrade_done done, void *done_arg);
	bool read_only; /* the user may watch, not type */
	uint64_t arg;
	char accept[32]; /* Sec-WebSocket-Accept */
};

/* How a request proved who it is. */
enum gd_api_via {
	GD_VIA_NONE,    /* a public route */
	GD_VIA_BASIC,   /* HTTP Basic: user and password */
	GD_VIA_SESSION, /* the session cookie of a browser login: state changes need the CSRF token
	                 */
	GD_VIA_BEARER,  /* Authorization: Bearer with a session secret or an API token, or
	                 * X-Auth-Token with a session secret (Redfish) */
};

/* A header a handler adds to its reply (Location, X-Auth-Token, ETag, ...). */
struct gd_api_header {
	char name[24];
	char value[200];
};
#define GD_API_HEADERS_MAX 4

struct gd_api_request {
	struct gd_app *app;
	const char *method;
	const char *path;
	const char *user;  /* authenticated user */
	enum gd_role role; /* and what it may do */
	enum gd_api_via via;
	const char *session;  /* the session secret when it came with one, else NULL */
	const char *csrf;     /* that session's CSRF token */
	const void *client;   /* the client's struct sockaddr */
	bool tls;             /* it came over HTTPS */
	bool redfish;         /* under /redfish: Redfish's headers and error bodies */
	char set_cookie[192]; /* a handler's Set-Cookie, when not empty */
	struct gd_api_header headers[GD_API_HEADERS_MAX];
	unsigned nheaders;
	unsigned retry_after;  /* seconds, for a 429 or 503 */
	json_t *body;          /* the request's JSON object when the route takes one, else NULL */
	const char *params[2]; /* the path segments matched by the route's {} */
	void *conn;            /* the server's connection, for gd_api_query() */
	int reply_fd;          /* a handler may answer 200 with a file instead: fd (taken), size */
	uint64_t reply_size;
	struct gd_api_upgrade upgrade; /* for a 101 */
};

/* The value of query parameter KEY ("?wait=1"), or NULL. */
const char *gd_api_query(struct gd_api_request *req, const char *key);
/* Query parameter KEY as a number up to MAX into *OUT: 1, 0 when absent, -1 when not one. */
int gd_api_query_uint(struct gd_api_request *req, const char *key, uint64_t max, uint64_t *out);
/* Adds header NAME with the formatted value to REQ's reply (ignored past GD_API_HEADERS_MAX). */
void gd_api_add_header(struct gd_api_request *req, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The value of request header NAME, or NULL. */
const char *gd_api_header(struct gd_api_request *req, const char *name);

/*
 * Handles a request: returns the HTTP status and sets *REPLY to a new JSON
 * reference (the body; gd_json_error() for errors). Never NULL on return.
 */
typedef unsigned (*gd_api_handler)(struct gd_api_request *req, json_t **reply);

enum gd_api_body {
	GD_BODY_NONE,     /* the body is ignored */
	GD_BODY_JSON,     /* the body must be a JSON object */
	GD_BODY_OPTIONAL, /* a JSON object if there is a body */
	GD_BODY_STREAM,   /* the body goes to the route's stream operations as it arrives */
};

/* A route whose body is handed over as it arrives (uploads), in constant memory. */
struct gd_api_stream {
	/* Before the body: 0 to take it (setting *CTX), or an error status with *REPLY. */
	unsigned (*begin)(struct gd_api_request *req, void **ctx, json_t **reply);
	/* The next chunk: 0, or an error status with *REPLY (the request ends; abort follows). */
	unsigned (*data)(void *ctx, const char *data, size_t len, json_t **reply);
	/* The body is complete: the status and reply. Frees CTX. */
	unsigned (*end)(struct gd_api_request *req, void *ctx, json_t **reply);
	/* The request ended without its body (client gone, error): undo, free CTX. */
	void (*abort)(void *ctx);
};

struct gd_api_route {
	const char *method;
	const char *path;  /* "{}" matches one path segment */
	enum gd_role role; /* the least role that may call it */
	enum gd_api_body body;
	gd_api_handler handler;
	const struct gd_api_stream *stream; /* for GD_BODY_STREAM */
	bool public;                        /* no credentials needed (logging in) */
};

/*
 * Checks NAME's PASSWORD for REQ's client: a password verified before is recognised at once;
 * any other is hashed only when the client's address is not made to wait after failures
 * (else GD_AUTH_THROTTLED).
 */
enum gd_auth_result gd_api_check_password(struct gd_api_request *req, const char *name,
                                          const char *password, enum gd_role *role);

/*
 * The reply to credentials that failed (RES is not GD_AUTH_OK): 401, after a wait that grows
 * with the client's failures, or 429 when it must wait before trying again. Logs it with the
 * client's address and USER (may be empty).
 */
unsigned gd_api_auth_failed(struct gd_api_request *req, enum gd_auth_result res, const char *user,
                            json_t **reply);

/*
 * Logs USER in with PASSWORD (POST /api/login, Redfish's sessions): 0 with the new session's
 * secret and CSRF token and the user's role, or the status of the refusal with *REPLY.
 */
unsigned gd_api_open_session(struct gd_api_request *req, const char *user, const char *password,
                             enum gd_role *role, char secret[GD_SECRET_TEXT + 1],
                             char csrf[GD_SESSION_CSRF_LEN + 1], json_t **reply);

/* CLOCK_MONOTONIC in milliseconds: the clock of sessions and failed-login waits. */
uint64_t gd_api_now_ms(void);

/* The session cookie's Set-Cookie value for SECRET (NULL: one that clears it) into REQ. */
void gd_api_set_session_cookie(struct gd_api_request *req, const char *secret);

extern const struct gd_api_route gd_api_routes[];

/* The gadget as the API shows it (a new reference), shared by /api/status and /api/gadget. */
json_t *gd_api_gadget_json(struct gd_gadget *gadget);

unsigned gd_api_status_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_gadget_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_gadget_post(struct gd_api_request *req, json_t **reply);
unsigned gd_api_keys_post(struct gd_api_request *req, json_t **reply);
unsigned gd_api_keyboard_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_keyboard_layouts_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_keyboard_keys_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_jobs_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_job_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_job_delete(struct gd_api_request *req, json_t **reply);
unsigned gd_api_macros_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_macro_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_macro_put(struct gd_api_request *req, json_t **reply);
unsigned gd_api_macro_delete(struct gd_api_request *req, json_t **reply);
unsigned gd_api_macro_run(struct gd_api_request *req, json_t **reply);
unsigned gd_api_scripts_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_script_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_script_put(struct gd_api_request *req, json_t **reply);
unsigned gd_api_script_delete(struct gd_api_request *req, json_t **reply);
unsigned gd_api_script_run(struct gd_api_request *req, json_t **reply);
unsigned gd_api_images_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_image_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_image_content_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_image_delete(struct gd_api_request *req, json_t **reply);
extern const struct gd_api_stream gd_api_image_put;   /* PUT /api/images/{name} */
extern const struct gd_api_stream gd_api_images_post; /* multipart upload or {"url"} */
unsigned gd_api_media_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_media_put(struct gd_api_request *req, json_t **reply);
unsigned gd_api_media_delete(struct gd_api_request *req, json_t **reply);
unsigned gd_api_power_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_power_post(struct gd_api_request *req, json_t **reply);
unsigned gd_api_console_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_console_post(struct gd_api_request *req, json_t **reply);
unsigned gd_api_console_log_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_console_ws_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_console_expect_post(struct gd_api_request *req, json_t **reply);
unsigned gd_api_login_post(struct gd_api_request *req, json_t **reply);
unsigned gd_api_logout_post(struct gd_api_request *req, json_t **reply);
unsigned gd_api_session_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_tokens_get(struct gd_api_request *req, json_t **reply);
unsigned gd_api_tokens_post(struct gd_api_request *req, json_t **reply);
unsigned gd_api_token_delete(struct gd_api_request *req, json_t **reply);
/* The console's state for /api/status (a new reference), or JSON null without one. */
json_t *gd_api_console_status(struct gd_app *app);

#endif
