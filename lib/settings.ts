/**
 * The table of settings: every flag and environment variable, in `--help` order. config.ts
 * reads them; the defaults shown come from limits.ts.
 *
 * @module
 */

import { DEFAULT_LIMITS } from "./limits.ts";
import { DEFAULT_RECEIVE_TIMEOUT_MS } from "./net/connection.ts";

/** One setting: its flag, its variable, how it is read and its `--help` line. */
export interface Setting {
  flag: string;
  env: string;
  kind: "string" | "boolean";
  help: string;
  fallback?: string;
}

/** Every setting, in `--help` order. */
export const SETTINGS: readonly Setting[] = [
  {
    flag: "smtp-port",
    env: "SMTP_PORT",
    kind: "string",
    fallback: "2525",
    help: "SMTP listen port (0 picks a free one)",
  },
  {
    flag: "imap-port",
    env: "IMAP_PORT",
    kind: "string",
    fallback: "1143",
    help: "IMAP listen port (0 picks a free one)",
  },
  {
    flag: "pop3-port",
    env: "POP3_PORT",
    kind: "string",
    fallback: "1110",
    help: "POP3 listen port (0 picks a free one, off disables)",
  },
  {
    flag: "http-port",
    env: "HTTP_PORT",
    kind: "string",
    help: "HTTP control plane port (off unless set)",
  },
  {
    flag: "bind-addr",
    env: "BIND_ADDR",
    kind: "string",
    fallback: "127.0.0.1",
    help: "address to listen on (0.0.0.0 for all interfaces)",
  },
  {
    flag: "http-allowed-hosts",
    env: "ELEKTROMAIL_HTTP_ALLOWED_HOSTS",
    kind: "string",
    help: "more Host names the HTTP port answers, comma separated (* for any)",
  },
  {
    flag: "release-hosts",
    env: "ELEKTROMAIL_RELEASE_HOSTS",
    kind: "string",
    help: "SMTP hosts a MailHog release may relay to besides loopback, comma separated",
  },
  {
    flag: "release-relay",
    env: "ELEKTROMAIL_RELEASE_RELAY",
    kind: "string",
    help: "host:port of the SMTP server a Mailpit release relays to (off unless set)",
  },
  {
    flag: "users",
    env: "ELEKTROMAIL_USERS",
    kind: "string",
    help: "logins: user:pass or user:address:pass, comma separated",
  },
  {
    flag: "auth-disabled",
    env: "ELEKTROMAIL_AUTH_DISABLED",
    kind: "boolean",
    help: "accept any credentials even with --users",
  },
  {
    flag: "smtp-auth-required",
    env: "ELEKTROMAIL_SMTP_AUTH_REQUIRED",
    kind: "boolean",
    help: "SMTP MAIL needs AUTH first (530 5.7.0)",
  },
  {
    flag: "db",
    env: "ELEKTROMAIL_DB",
    kind: "string",
    help: "SQLite file for persistence, message bytes in <file>.mail (memory if unset)",
  },
  {
    flag: "hostname",
    env: "ELEKTROMAIL_HOSTNAME",
    kind: "string",
    fallback: "localhost",
    help: "name in greetings and Received headers",
  },
  {
    flag: "verbose",
    env: "ELEKTROMAIL_VERBOSE",
    kind: "boolean",
    help: "log protocol traffic to stderr",
  },
  {
    flag: "skip-warm-up",
    env: "ELEKTROMAIL_SKIP_WARM_UP",
    kind: "boolean",
    help: "do not warm up at startup: idles ~8 MB lower, the first commands run slower",
  },
  {
    flag: "max-message-size",
    env: "ELEKTROMAIL_MAX_MESSAGE_SIZE",
    kind: "string",
    fallback: String(DEFAULT_LIMITS.maxMessageSize),
    help: "largest message in octets",
  },
  {
    flag: "max-recipients",
    env: "ELEKTROMAIL_MAX_RECIPIENTS",
    kind: "string",
    fallback: String(DEFAULT_LIMITS.maxRecipients),
    help: "recipients per SMTP message",
  },
  {
    flag: "max-connections",
    env: "ELEKTROMAIL_MAX_CONNECTIONS",
    kind: "string",
    fallback: String(DEFAULT_LIMITS.maxConnections),
    help: "open connections per listener",
  },
  {
    flag: "max-line-length",
    env: "ELEKTROMAIL_MAX_LINE_LENGTH",
    kind: "string",
    fallback: String(DEFAULT_LIMITS.imapMaxLineLength),
    help: "longest IMAP command line in octets, literals not counted",
  },
  {
    flag: "max-users",
    env: "ELEKTROMAIL_MAX_USERS",
    kind: "string",
    fallback: String(DEFAULT_LIMITS.maxUsers),
    help: "users created by mail or login, besides --users (452 4.3.1 past it)",
  },
  {
    flag: "max-auth-failures",
    env: "ELEKTROMAIL_MAX_AUTH_FAILURES",
    kind: "string",
    fallback: String(DEFAULT_LIMITS.maxAuthFailuresPerAddress),
    help: "failed logins per client address per 10 minutes (0: no limit)",
  },
  {
    flag: "max-connections-per-address",
    env: "ELEKTROMAIL_MAX_CONNECTIONS_PER_ADDRESS",
    kind: "string",
    help: "open connections per listener from one address [default 3/4 of --max-connections]",
  },
  {
    flag: "receive-timeout",
    env: "ELEKTROMAIL_RECEIVE_TIMEOUT",
    kind: "string",
    fallback: String(DEFAULT_RECEIVE_TIMEOUT_MS / 1000),
    help: "seconds a started command line has to end, message data to progress; 0: off",
  },
  {
    flag: "tls",
    env: "ELEKTROMAIL_TLS",
    kind: "boolean",
    help: "offer STARTTLS (self-signed certificate unless --tls-cert)",
  },
  {
    flag: "tls-required",
    env: "ELEKTROMAIL_TLS_REQUIRED",
    kind: "boolean",
    help: "refuse SMTP MAIL/AUTH and IMAP LOGIN before STARTTLS",
  },
  {
    flag: "tls-cert",
    env: "TLS_CERT",
    kind: "string",
    help: "certificate: PEM file path or PEM text (turns TLS on)",
  },
  {
    flag: "tls-key",
    env: "TLS_KEY",
    kind: "string",
    help: "private key: PEM file path or PEM text",
  },
  {
    flag: "smtps-port",
    env: "SMTPS_PORT",
    kind: "string",
    help: "implicit-TLS SMTP port (off unless set; turns TLS on)",
  },
  {
    flag: "imaps-port",
    env: "IMAPS_PORT",
    kind: "string",
    help: "implicit-TLS IMAP port (off unless set; turns TLS on)",
  },
  {
    flag: "pop3s-port",
    env: "POP3S_PORT",
    kind: "string",
    help: "implicit-TLS POP3 port (off unless set; turns TLS on)",
  },
  {
    flag: "chaos",
    env: "ELEKTROMAIL_CHAOS",
    kind: "string",
    help: "fault-injection rules at startup, JSON (see POST /chaos)",
  },
];
