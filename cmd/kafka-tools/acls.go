package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gregorkafka/gregor/kafka"
	"github.com/gregorkafka/gregor/protocol"
)

// ACL enum spellings, as Kafka's kafka-acls tool writes them (lowercase here).
var (
	aclResourceTypes = map[string]kafka.ACLResourceType{"any": kafka.ACLResourceAny, "topic": kafka.ACLResourceTopic,
		"group": kafka.ACLResourceGroup, "cluster": kafka.ACLResourceCluster, "transactional-id": kafka.ACLResourceTransactionalID,
		"delegation-token": kafka.ACLResourceDelegationToken, "user": kafka.ACLResourceUser}
	aclPatterns = map[string]kafka.ACLPatternType{"any": kafka.ACLPatternAny, "match": kafka.ACLPatternMatch,
		"literal": kafka.ACLPatternLiteral, "prefixed": kafka.ACLPatternPrefixed}
	aclOperations = map[string]kafka.ACLOperation{"any": kafka.ACLOperationAny, "all": kafka.ACLOperationAll,
		"read": kafka.ACLOperationRead, "write": kafka.ACLOperationWrite, "create": kafka.ACLOperationCreate,
		"delete": kafka.ACLOperationDelete, "alter": kafka.ACLOperationAlter, "describe": kafka.ACLOperationDescribe,
		"cluster-action": kafka.ACLOperationClusterAction, "describe-configs": kafka.ACLOperationDescribeConfigs,
		"alter-configs": kafka.ACLOperationAlterConfigs, "idempotent-write": kafka.ACLOperationIdempotentWrite,
		"create-tokens": kafka.ACLOperationCreateTokens, "describe-tokens": kafka.ACLOperationDescribeTokens}
	aclPermissions = map[string]kafka.ACLPermission{"any": kafka.ACLPermissionAny, "allow": kafka.ACLPermissionAllow,
		"deny": kafka.ACLPermissionDeny}
)

func enumFlag[T ~int8](names map[string]T, flagName, v string) (T, error) {
	if v == "" {
		return 0, nil
	}
	if x, ok := names[strings.ToLower(v)]; ok {
		return x, nil
	}
	return 0, usagef("bad --%s %q (one of %s)", flagName, v, strings.Join(sortedKeys(names), ", "))
}

func enumName[T comparable](names map[string]T, v T) string {
	for n, x := range names {
		if x == v {
			return n
		}
	}
	return fmt.Sprint(v)
}

var aclsCommand = &command{
	name:    "acls",
	args:    "list|create|delete",
	summary: "List, create or delete ACLs",
	details: `list shows the ACLs matching the flags given (all without flags); delete
deletes them; create creates one ACL from the flags, which must then name the
resource type and name, principal, operation and permission (--host defaults
to "*", --pattern to literal). The cluster needs an authorizer.`,
	examples: []string{
		"acls create --resource-type topic --resource orders --principal User:alice --operation read --permission allow",
		"acls list --principal User:alice",
		"acls delete --resource-type topic --resource orders",
	},
	minArgs: 1, maxArgs: 1,
	setup: func(fs *flag.FlagSet) action {
		rt := fs.String("resource-type", "", "topic, group, cluster, transactional-id, delegation-token, user")
		name := fs.String("resource", "", "resource name (cluster: kafka-cluster)")
		pattern := fs.String("pattern", "", "literal, prefixed (filters also: any, match)")
		principal := fs.String("principal", "", "principal, e.g. User:alice")
		host := fs.String("host", "", `host ("*": any)`)
		op := fs.String("operation", "", "read, write, create, delete, alter, describe, all, ...")
		perm := fs.String("permission", "", "allow or deny")
		return func(ctx context.Context, e *env, args []string) (report, error) {
			var a kafka.ACL
			var err error
			if a.ResourceType, err = enumFlag(aclResourceTypes, "resource-type", *rt); err != nil {
				return nil, err
			}
			if a.PatternType, err = enumFlag(aclPatterns, "pattern", *pattern); err != nil {
				return nil, err
			}
			if a.Operation, err = enumFlag(aclOperations, "operation", *op); err != nil {
				return nil, err
			}
			if a.Permission, err = enumFlag(aclPermissions, "permission", *perm); err != nil {
				return nil, err
			}
			a.ResourceName, a.Principal, a.Host = *name, *principal, *host
			switch args[0] {
			case "list", "create", "delete":
			default:
				return nil, usagef("acls takes list, create or delete, got %q", args[0])
			}
			if args[0] == "create" && (a.ResourceType == 0 || a.ResourceName == "" || a.Principal == "" || a.Operation == 0 || a.Permission == 0) {
				return nil, usagef("acls create needs --resource-type, --resource, --principal, --operation and --permission")
			}
			cl, err := e.connect(ctx)
			if err != nil {
				return nil, err
			}
			admin := cl.Cluster()
			var acls []kafka.ACL
			switch args[0] {
			case "list":
				acls, err = admin.DescribeACLs(ctx, kafka.ACLFilter(a))
			case "create":
				var errs []error
				if errs, err = admin.CreateACLs(ctx, a); err == nil {
					err = errs[0]
				}
				acls = []kafka.ACL{a}
			case "delete":
				var res []kafka.DeletedACLs
				if res, err = admin.DeleteACLs(ctx, kafka.ACLFilter(a)); err == nil {
					acls, err = res[0].Deleted, res[0].Err
				}
			}
			if errors.Is(err, protocol.ErrSecurityDisabled) {
				return nil, fmt.Errorf("the cluster has no authorizer (authorizer.class.name): %w", err)
			}
			if err != nil {
				return nil, err
			}
			rep := &aclsReport{Action: args[0], ACLs: []aclRow{}}
			for _, x := range acls {
				host := x.Host
				if host == "" {
					host = "*"
				}
				pt := x.PatternType
				if pt == 0 {
					pt = kafka.ACLPatternLiteral
				}
				rep.ACLs = append(rep.ACLs, aclRow{ResourceType: enumName(aclResourceTypes, x.ResourceType), Resource: x.ResourceName,
					Pattern: enumName(aclPatterns, pt), Principal: x.Principal, Host: host,
					Operation: enumName(aclOperations, x.Operation), Permission: enumName(aclPermissions, x.Permission)})
			}
			return rep, nil
		}
	},
}

type aclsReport struct {
	Action string   `json:"action"`
	ACLs   []aclRow `json:"acls"`
}

type aclRow struct {
	ResourceType string `json:"resource_type"`
	Resource     string `json:"resource"`
	Pattern      string `json:"pattern"`
	Principal    string `json:"principal"`
	Host         string `json:"host"`
	Operation    string `json:"operation"`
	Permission   string `json:"permission"`
}

func (r *aclsReport) writeText(w io.Writer) error {
	switch {
	case r.Action == "create":
		fmt.Fprintln(w, "Created ACL:")
	case r.Action == "delete":
		fmt.Fprintf(w, "Deleted %d ACL(s):\n", len(r.ACLs))
	case len(r.ACLs) == 0:
		_, err := fmt.Fprintln(w, "No matching ACLs")
		return err
	}
	t := newTable(w, "Resource type", "Resource", "Pattern", "Principal", "Host", "Operation", "Permission")
	for _, a := range r.ACLs {
		t.row(a.ResourceType, a.Resource, a.Pattern, a.Principal, a.Host, a.Operation, a.Permission)
	}
	return t.flush()
}
