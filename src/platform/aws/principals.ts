/**
 * The components of card-store that call AWS, each under an IAM role of its own on AWS
 * (infra/card-store-stack.ts): the API function, the three pipeline functions, and the
 * state machine, whose role invokes the task functions. A client built for one of them
 * (aws/clients.ts) names it in its user agent, so CloudTrail shows which component made a
 * call, and tests can prove every call allowed by that component's role
 * (infra/least-privilege.spec.ts).
 */
export const AWS_PRINCIPALS = {
  api: 'api',
  userTableTrigger: 'user-table-trigger',
  getActivationStatus: 'get-activation-status',
  sendActivationMail: 'send-activation-mail',
  stateMachine: 'state-machine',
} as const;

export type AwsPrincipal = (typeof AWS_PRINCIPALS)[keyof typeof AWS_PRINCIPALS];
