/** A class without execute (load_model_test.ts). */
export default class NoExecute {
  /** Not execute. */
  run(): void {}
}
