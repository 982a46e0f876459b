// The operations of this client. Each goes through graphql(), which codegen
// reads (npm run codegen) to type its result and variables and to list it in
// persisted-documents.json.

import { graphql } from './gql';

export const CustomerPicker = graphql(`
  query CustomerPicker($search: String) {
    customers(first: 20, search: $search) {
      edges {
        node {
          id
          name
          active
        }
      }
    }
  }
`);

export const CreateShipment = graphql(`
  mutation CreateShipment($input: CreateShipmentInput!) {
    createShipment(input: $input) {
      id
      reference
      status
      carrier
      customer {
        name
      }
    }
  }
`);

// One page of a filtered list; pass pageInfo.endCursor as after for the next.
export const ShipmentPage = graphql(`
  query ShipmentPage($first: Int!, $after: Cursor, $where: ShipmentWhereInput) {
    shipments(first: $first, after: $after, where: $where, orderBy: [{ field: CREATED_AT, direction: ASC }]) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          reference
          status
          carrier
          createdAt
        }
      }
    }
  }
`);

// The list at once, each shipment's Dolibarr customer when it comes: the
// deferred fields are optional in the generated type.
export const ShipmentsWithCustomers = graphql(`
  query ShipmentsWithCustomers($first: Int!, $where: ShipmentWhereInput) {
    shipments(first: $first, where: $where, orderBy: [{ field: CREATED_AT, direction: ASC }]) {
      edges {
        node {
          id
          reference
          status
          ... @defer(label: "customer") {
            customer {
              id
              name
              country {
                code
              }
            }
          }
        }
      }
    }
  }
`);
