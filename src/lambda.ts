/**
 * Lambda entry of the API (what CDK's NodejsFunction bundles, from the build's
 * dist/src/lambda.js). Loading it starts the Nest bootstrap, in Lambda's init phase.
 */
import 'reflect-metadata';
import { createApiHandler } from './lambda-handler';

export const handler = createApiHandler(process.env);

/** Resolves once the app is bootstrapped: the cold-start bench times it. */
export const ready = handler.ready;
