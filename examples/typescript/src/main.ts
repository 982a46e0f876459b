// A walk through the API as a frontend would use it: pick a customer,
// create shipments (a mutation), page through a filtered list, show a list
// at once and its Dolibarr customers as they arrive (@defer), and read the
// error codes of a refused input. Each step prints one JSON line.
//
//   SHIPMENTAPP_URL=http://127.0.0.1:8080/graphql SHIPMENTAPP_API_KEY=sa_... npm start

import { CombinedError } from '@urql/core';
import type { Client } from '@urql/core';
import { createShipmentClient } from './client';
import { loadConfig } from './config';
import { CreateShipment, CustomerPicker, ShipmentPage, ShipmentsWithCustomers } from './documents';
import type { CreateShipmentInput, ShipmentPageQuery, ShipmentWhereInput } from './gql/graphql';

function print(step: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ step, ...fields }));
}

/** The extensions.code of each GraphQL error of err (the server's contract). */
function errorCodes(err: CombinedError): string[] {
  return err.graphQLErrors.map((e) => String(e.extensions?.code ?? 'NONE'));
}

/** The data of an answer without errors, or an exception naming them. */
function must<T>(step: string, result: { data?: T; error?: CombinedError }): T {
  if (result.error !== undefined || result.data === undefined) {
    throw new Error(`${step}: ${result.error?.message ?? 'no data'} ${JSON.stringify(result.error?.graphQLErrors ?? [])}`);
  }
  return result.data;
}

function shipmentInput(customerId: string, carrier: string, n: number): CreateShipmentInput {
  const address = (city: string, countryCode: string) => ({
    name: `Receiving desk ${n}`,
    line1: `${n} rue de la Gare`,
    city,
    postalCode: '69002',
    countryCode,
  });
  return {
    customerId,
    carrier,
    serviceLevel: 'Express',
    origin: address('Lyon', 'FR'),
    destination: address('Berlin', 'DE'),
    parcels: [{ weightGrams: 1200 + n, lengthMm: 300, widthMm: 200, heightMm: 100 }],
  };
}

async function pickCustomer(client: Client): Promise<{ id: string; name: string }> {
  const data = must('customers', await client.query(CustomerPicker, {}).toPromise());
  const active = (data.customers.edges ?? []).map((e) => e?.node).find((c) => c?.active === true);
  if (active == null) {
    throw new Error('customers: no active Dolibarr customer to ship to');
  }
  const customer = { id: active.id, name: active.name ?? '' };
  print('customer', customer);
  return customer;
}

async function createShipments(client: Client, customerId: string, carrier: string, count: number): Promise<string[]> {
  const references: string[] = [];
  for (let n = 1; n <= count; n++) {
    const data = must('create', await client.mutation(CreateShipment, { input: shipmentInput(customerId, carrier, n) }).toPromise());
    const s = data.createShipment;
    references.push(s.reference);
    print('create', { id: s.id, reference: s.reference, status: s.status, carrier: s.carrier, customer: s.customer?.name ?? null });
  }
  return references;
}

async function listPages(client: Client, where: ShipmentWhereInput, pageSize: number): Promise<void> {
  let after: string | null = null;
  for (let page = 1; ; page++) {
    const data: ShipmentPageQuery = must('page', await client.query(ShipmentPage, { first: pageSize, after, where }).toPromise());
    const { totalCount, pageInfo, edges } = data.shipments;
    print('page', {
      page,
      totalCount,
      hasNextPage: pageInfo.hasNextPage,
      references: (edges ?? []).map((e) => e?.node?.reference),
    });
    if (!pageInfo.hasNextPage) {
      return;
    }
    after = pageInfo.endCursor ?? null;
  }
}

// Renders the list as soon as the first part of the answer arrives, then
// again as each deferred customer does; resolves on the last part.
function watchDeferred(client: Client, where: ShipmentWhereInput, first: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let part = 0;
    const { unsubscribe } = client.query(ShipmentsWithCustomers, { first, where }).subscribe((result) => {
      if (result.error !== undefined) {
        unsubscribe();
        reject(new Error(`deferred: ${result.error.message}`));
        return;
      }
      part++;
      const rows = (result.data?.shipments.edges ?? []).map((e) => {
        const node = e?.node;
        // customer is in the type only once its deferred part has come:
        // until then it is absent (or null, as gqlgen writes it).
        return { reference: node?.reference, customer: node?.customer?.name ?? null, country: node?.customer?.country?.code ?? null };
      });
      print('deferred', { part, hasNext: result.hasNext, shipments: rows });
      if (!result.hasNext) {
        // A query's source stays open for cache updates: close it.
        setTimeout(() => unsubscribe());
        resolve();
      }
    });
  });
}

// A bad input: the mutation is refused with extensions.code BAD_USER_INPUT,
// which a form would map to a message next to the field.
async function refusedInput(client: Client, customerId: string, carrier: string): Promise<void> {
  const input = shipmentInput(customerId, carrier, 0);
  input.parcels = [];
  const result = await client.mutation(CreateShipment, { input }).toPromise();
  if (result.error === undefined) {
    throw new Error('badInput: a shipment without parcels was accepted');
  }
  print('badInput', { codes: errorCodes(result.error), message: result.error.graphQLErrors[0]?.message ?? result.error.message });
}

// A document written by hand, not by graphql(): codegen never saw it, so
// it is not in persisted-documents.json, and a server that runs only trusted
// documents refuses it (PERSISTED_QUERY_NOT_ALLOWED).
async function adHoc(client: Client): Promise<void> {
  const result = await client.query('query AdHoc { viewer { __typename } }', {}).toPromise();
  print('adHoc', { ok: result.error === undefined, codes: result.error ? errorCodes(result.error) : [] });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const client = createShipmentClient(config);
  print('config', { url: config.url, persisted: config.persisted });

  const customer = await pickCustomer(client);
  // A carrier name of this run's own, to filter on.
  const carrier = `Example-${Date.now().toString(36)}`;
  await createShipments(client, customer.id, carrier, 3);
  await listPages(client, { carrier }, 2);
  await watchDeferred(client, { carrier }, 3);
  await refusedInput(client, customer.id, carrier);
  await adHoc(client);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
