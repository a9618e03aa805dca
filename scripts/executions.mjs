// Shows the activation-mail executions of the running local system (`npm start`) through
// the Step Functions API, as the AWS console would:
//   npm run executions                 the newest executions: name, status, when, how long
//   npm run executions -- <name|user>  one execution's states, task errors and result
// Reads SFN_ENDPOINT (or SFN_LOCAL_PORT), AWS_REGION and STATE_MACHINE_NAME like the app.
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';

const region = process.env.AWS_REGION || 'us-east-1';
const endpoint =
  process.env.SFN_ENDPOINT || `http://127.0.0.1:${process.env.SFN_LOCAL_PORT || 8083}`;
const machine = process.env.STATE_MACHINE_NAME || 'SF_CardStore_SendUserActivationMail';
const stateMachineArn = `arn:aws:states:${region}:000000000000:stateMachine:${machine}`;
const sfn = new SFNClient({
  region,
  endpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

const time = (date) => (date ? date.toISOString().replace('T', ' ').slice(0, 23) : '-');
const duration = (start, stop) => (stop ? `${stop - start} ms` : 'running');

async function list() {
  const { executions = [] } = await sfn.send(
    new ListExecutionsCommand({ stateMachineArn, maxResults: 20 }),
  );
  if (executions.length === 0) return console.log('No executions yet. Register a user first.');
  console.log(`Newest executions of ${machine} (${endpoint}):`);
  for (const e of executions) {
    console.log(
      `  ${e.status.padEnd(9)} ${time(e.startDate)}  ${duration(e.startDate, e.stopDate).padStart(9)}  ${e.name}`,
    );
  }
  console.log('Details of one: npm run executions -- <name or username>');
}

async function show(wanted) {
  const { executions = [] } = await sfn.send(
    new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }),
  );
  const match = executions.find((e) => e.name === wanted || e.name.startsWith(`${wanted}-`));
  if (!match) return console.log(`No execution named ${wanted} or for user ${wanted}.`);
  const execution = await sfn.send(
    new DescribeExecutionCommand({ executionArn: match.executionArn }),
  );
  console.log(`${execution.name}: ${execution.status}, started ${time(execution.startDate)}`);
  console.log(`  input  ${execution.input}`);
  const { events = [] } = await sfn.send(
    new GetExecutionHistoryCommand({ executionArn: match.executionArn, maxResults: 1000 }),
  );
  for (const event of events) {
    const entered = event.stateEnteredEventDetails?.name;
    const failed = event.lambdaFunctionFailedEventDetails ?? event.taskFailedEventDetails;
    if (entered) console.log(`  ${time(event.timestamp)}  state ${entered}`);
    if (failed) console.log(`  ${time(event.timestamp)}    failed: ${failed.error}`);
  }
  if (execution.output) console.log(`  output ${execution.output}`);
  if (execution.error) console.log(`  error  ${execution.error}: ${execution.cause}`);
}

try {
  await (process.argv[2] ? show(process.argv[2]) : list());
} catch (error) {
  const refused = error?.cause?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(String(error));
  console.error(
    refused
      ? `No Step Functions endpoint at ${endpoint}: is \`npm start\` running?`
      : `Step Functions answered: ${error.name}: ${error.message}`,
  );
  process.exitCode = 1;
} finally {
  sfn.destroy();
}
