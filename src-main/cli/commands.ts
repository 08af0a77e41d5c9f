import type { Command } from './command.ts';
import { adapt } from './adapt.ts';
import { batch } from './batch.ts';
import { deblur } from './deblur.ts';
import { info } from './info.ts';
import { motion } from './motion.ts';
import { triage } from './triage.ts';

export const commands: Record<string, Command> = { info, deblur, motion, triage, batch, adapt };
