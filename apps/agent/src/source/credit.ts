import { Receiver } from 'rhea-promise';

let bounded = false;

/**
 * Makes `prefetchCount` bound what the SDK holds per partition: its queue plus the link credit still
 * outstanding. `@azure/event-hubs` 6.0.4 tops the credit up by `max(prefetchCount, maxBatchSize) −
 * queued` on every receive without counting what is still outstanding (Azure/azure-sdk-for-js#39452),
 * so credit grows by a prefetch on each empty receive, to hundreds of thousands of events per
 * partition, and the service may then push all of them at once into memory (a backlog after a
 * storage stall, a burst, a catch-up). This subtracts the outstanding credit, as the SDK's pending fix
 * does (#39872); that receive is the only caller of `addCredit` on an Event Hubs receiver.
 * Idempotent; it applies to every AMQP receiver of the process.
 */
export function boundReceiverCredit(): void {
  if (bounded) return;
  bounded = true;
  const addCredit = Receiver.prototype.addCredit;
  Receiver.prototype.addCredit = function (this: Receiver, credit: number) {
    const missing = credit - this.credit;
    if (missing > 0) addCredit.call(this, missing);
  };
}
