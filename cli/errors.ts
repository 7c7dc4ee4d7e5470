/**
 * Errors the CLI expects. Both carry a message fit for the user; the entry point prints it without a stack trace and
 * exits with the matching code. Anything else is a bug and is reported as such.
 */

/** Exit codes: documented in the usage text, relied on by scripts. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** Something went wrong while doing what was asked (wrangler failed, file unreadable, unknown key id...). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message)
  }
}

/**
 * The command line itself is wrong. With `showUsage` (unknown or malformed options) the entry point prints the
 * command's usage text; otherwise (a bad value) it points at --help, which keeps the message readable.
 */
export class UsageError extends CliError {
  constructor(
    message: string,
    readonly showUsage = false,
  ) {
    super(message, EXIT_USAGE)
  }
}
