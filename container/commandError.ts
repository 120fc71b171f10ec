/** A failure a command-line program cannot recover from; `exitCode` says which kind (1: the work failed, 2: bad usage or input). */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
