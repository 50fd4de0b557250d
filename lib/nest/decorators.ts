import { Inject } from '@nestjs/common';
import { getPollerToken, getProducerToken } from './tokens';

/** Injects the producer named `name` (declared in `forRoot`/`forFeature`), or the default producer. */
export const InjectProducer = (name?: string): ParameterDecorator & PropertyDecorator => Inject(getProducerToken(name));

/** Injects the poller named `name` (declared in the root options), or the global poller. */
export const InjectPoller = (name?: string): ParameterDecorator & PropertyDecorator => Inject(getPollerToken(name));
