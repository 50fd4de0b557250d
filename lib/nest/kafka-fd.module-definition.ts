import { ConfigurableModuleBuilder } from '@nestjs/common';
import { KafkaFdModuleOptions, KafkaFdProvides } from './kafka-fd.interfaces';

/**
 * `forRoot`/`forRootAsync` (with `useFactory`, `useClass`, `useExisting`, `inject`, `imports`) come from Nest's
 * builder. Extras: `isGlobal` makes the root producers and pollers injectable everywhere; `provides` names
 * what an async configuration provides for injection.
 */
export const {
  ConfigurableModuleClass: ConfigurableKafkaFdModule,
  MODULE_OPTIONS_TOKEN: KAFKA_FD_MODULE_OPTIONS,
  OPTIONS_TYPE: KAFKA_FD_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: KAFKA_FD_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<KafkaFdModuleOptions>({ moduleName: 'KafkaFd' })
  .setClassMethodName('forRoot')
  .setExtras<{ isGlobal?: boolean; provides?: KafkaFdProvides }>({ isGlobal: false, provides: undefined },
    (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
