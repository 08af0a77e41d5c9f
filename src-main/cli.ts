/** `neurmap`: the command-line face of the engine. Each command lives in src-main/cli/. */
import { EXIT, UsageError, CannotRunError } from './cli/exit-codes.ts';
import { commands } from './cli/commands.ts';

const usage = `usage: neurmap <command> [options]

commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  .join('\n')}

Run \`neurmap <command> --help\` for a command's options.
Exit codes: 0 ok, 1 some inputs failed, 2 usage error, 3 could not run (e.g. no model installed).`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? process.stdout : process.stderr).write(usage + '\n');
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`neurmap: unknown command '${name}'\n\n${usage}\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: neurmap ${name} ${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`neurmap ${name}: ${message}\nusage: neurmap ${name} ${command.usage}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`neurmap ${name}: ${message}\n`);
    if (err instanceof CannotRunError) return EXIT.cannotRun;
    if (process.env.NEURMAP_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return EXIT.cannotRun;
  }
}
