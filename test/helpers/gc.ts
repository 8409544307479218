// A full garbage collection for memory tests, without running mocha with --expose-gc: dead JS
// objects (result arrays, Buffers) would otherwise read as growth of the resident set.
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;

export function gc(): void {
  collect();
}
