/** One `neurmap` command: parses its own arguments and returns an exit code (see exit-codes.ts). */
export interface Command {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}
