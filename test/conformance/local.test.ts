import { connectLocal } from '../../src/target/local.js';
import { conformance } from './suite.js';

conformance('local (agent as a child process)', () => connectLocal());
