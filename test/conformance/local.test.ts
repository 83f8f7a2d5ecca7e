import { connectLocal } from '../../src/runner/connect.js';
import { conformance } from './suite.js';

conformance('local (agent as a child process)', () => connectLocal());
