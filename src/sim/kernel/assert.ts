/**
 * Assertions that throw. Inside the simulation a failed assertion is a bug in streamlab itself, never a user error:
 * user input is validated at the edges (scenario and trace schemas) before it reaches code that asserts.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new AssertionError(msg);
}

/**
 * Throws an AssertionError. Hot paths write `if (!cond) fail(\`…\`)` rather than `assert(cond, \`…\`)`, so the
 * message — often a template that formats numbers — is only built when the check fails.
 */
export function fail(msg: string): never {
  throw new AssertionError(msg);
}

export function assertNever(x: never, what: string): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(x)}`);
}
