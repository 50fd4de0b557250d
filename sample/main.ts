import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KafkaFdServer } from '../lib/microservices';
import { AppModule } from './app.module';
import { resolveBrokers } from './brokers';
import { startTracing } from './observability/tracing';

async function bootstrap(): Promise<void> {
  // OpenTelemetry spans for every produce, handler and commit, a trace carried across Kafka in the headers.
  startTracing();
  const brokers = resolveBrokers();
  const app = await NestFactory.create(AppModule.with(brokers));
  // SIGTERM/SIGINT run the shutdown hooks: producers flush, then close; no accepted message is lost.
  app.enableShutdownHooks();
  // A hybrid app: the microservice handlers (sample/shipping) on KafkaFdServer. With Nest's own transport this
  // was `app.connectMicroservice({ transport: Transport.KAFKA, options })`.
  app.connectMicroservice({
    strategy: new KafkaFdServer({
      client: { brokers: [brokers.bootstrapServers], clientId: 'shipping' },
      consumer: { groupId: 'shipping' },
      subscribe: { fromBeginning: true },
      run: { partitionsConsumedConcurrently: 3 },
    }),
  });
  await app.startAllMicroservices();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  // PORT=0 takes any free port: say which.
  const { port } = app.getHttpServer().address() as { port: number };
  const log = new Logger('Sample');
  log.log(`listening on http://127.0.0.1:${port}`);
  log.log(`send an order: curl -s -X POST http://127.0.0.1:${port}/orders -H 'content-type: application/json' -d '{"id":"o-1","total":42}'`);
  log.log(`ask shipping for a quote (Kafka request-reply): curl -s 'http://127.0.0.1:${port}/shipping/quote?total=42'`);
  log.log(`Kafka metrics for Prometheus: curl -s http://127.0.0.1:${port}/metrics`);
  log.log('stop with Ctrl-C: the consumers finish and commit, then the producers flush and close');
  // The embedded broker goes last, after the producers have closed.
  if (brokers.embedded) {
    const embedded = brokers.embedded;
    process.once('exit', () => void embedded.close());
  }
}

void bootstrap();
