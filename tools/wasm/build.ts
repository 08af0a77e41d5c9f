/** `npm run build:wasm`: writes src-main/engine/map/map-kernels-wasm.ts from the AssemblyScript kernels. */
import fs from 'node:fs/promises';
import { compileMapKernels, KERNELS_MODULE } from './compile-map-kernels.ts';

await fs.writeFile(KERNELS_MODULE, await compileMapKernels());
process.stdout.write(`wrote ${KERNELS_MODULE}\n`);
