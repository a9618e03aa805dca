/** jest setup file: each test file's AWS calls go to the run's call log. */
import { recordAwsCalls } from './aws-call-log';

recordAwsCalls();
