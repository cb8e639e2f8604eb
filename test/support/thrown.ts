/** What `call` throws, or undefined when it returns: for tests that check an error's class and its fields. */
export function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
}
