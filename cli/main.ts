/** Entry point of the `dare` command (loaded by cli/dare.js). */
import { main } from './program.ts';

process.exitCode = await main(process.argv.slice(2));
