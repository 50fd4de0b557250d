// Everything: the core (usable alone from 'nestjs-kafka-fd/core') and the NestJS module. The terminus
// health indicator is in 'nestjs-kafka-fd/health', so that @nestjs/terminus stays optional.
export * from './core';
export * from './nest';
