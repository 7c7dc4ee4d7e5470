/**
 * One more try for a Durable Object call whose object restarted under it (a deploy, an eviction): the runtime
 * rejects the call, the object itself is fine. Each try must take a new stub (a broken stub stays broken), so the
 * caller passes a function that makes the whole call. An overloaded object is not pressed again, nor is an error the
 * caller marks as final.
 */
export async function retryObjectCallOnce<T>(call: () => Promise<T>, isFinal: (error: unknown) => boolean = () => false): Promise<T> {
  try {
    return await call()
  } catch (error) {
    if (isFinal(error) || (error as { overloaded?: boolean }).overloaded === true) throw error
    return call()
  }
}
