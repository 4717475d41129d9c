/** Stable, documented process exit codes (README "Exit codes"). */
export const ExitCode = {
  Ok: 0,
  /** Generic failure: an operation was refused or a result could not be produced. */
  Failure: 1,
  /** Bad command line, bad input file, unknown profile. */
  Usage: 2,
  /** Installation blocked by one or more MEHRS checks. */
  Blocked: 3,
  /** Data missing or unreadable, so checks could not be evaluated. */
  CannotEvaluate: 4,
  /** The meter could not be reached or stopped answering. */
  Communication: 5,
  /** A bug: an unexpected exception. */
  Internal: 70,
  /** Stopped by Ctrl-C (128 + SIGINT, the shell convention); a rerun resumes. */
  Interrupted: 130,
} as const;
