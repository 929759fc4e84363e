/** The smallest valid model shape (load_model_test.ts). */
export default class Good {
  /** Echoes the request count. */
  execute(requests: unknown[]): number {
    return requests.length;
  }
}
