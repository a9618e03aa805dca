/** The CDK app's entry: cdk.json runs it with tsx (`npm run synth`, `deploy`, `destroy`). */
import { App } from 'aws-cdk-lib';
import { defineCardStoreApp } from '../card-store-app';

defineCardStoreApp(new App());
