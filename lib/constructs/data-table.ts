import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../../shared/config/constants';

export interface DataTableProps {
  /** NFR-SEC-002: the customer-managed key the table is encrypted with. */
  readonly encryptionKey: kms.IKey;
  /** Deletion protection and RETAIN (every stage except dev). */
  readonly protect: boolean;
}

/**
 * The single table, built from TABLE_SCHEMA so the cloud table and the local one cannot drift.
 * No replicas: the data of a home region stays in that region (CON-DATA-001).
 */
export class DataTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: DataTableProps) {
    super(scope, id);
    const str = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });

    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: str(TABLE_SCHEMA.partitionKey),
      sortKey: str(TABLE_SCHEMA.sortKey),
      globalSecondaryIndexes: TABLE_SCHEMA.globalIndexes.map((gsi) => ({
        indexName: gsi.indexName,
        partitionKey: str(gsi.partitionKey),
        sortKey: str(gsi.sortKey),
      })),
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      billing: dynamodb.Billing.onDemand(),
      // NFR-OPS-004
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(props.encryptionKey),
      deletionProtection: props.protect,
      removalPolicy: props.protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }
}
