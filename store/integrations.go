package store

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
)

// NewOrgIntegration is an integration shared by the whole organization.
type NewOrgIntegration struct {
	Service string
	// Config is a JSON object; empty means {}.
	Config string
	// Status defaults to "pending".
	Status string
}

// ListIntegrationsForUser returns the integrations a user sees: their own
// (user-scoped) ones and the organization's. Errors: VALIDATION_ERROR
// (empty id), INTERNAL_ERROR; an unknown user has none.
func (s *Store) ListIntegrationsForUser(ctx context.Context, userID string) ([]db.Integration, error) {
	if err := requireID("user id", userID); err != nil {
		return nil, err
	}
	its, err := s.rq.ListIntegrationsForUser(ctx, userID)
	return its, Translate(err, "integrations")
}

// CreateOrgIntegration creates an org-scoped integration on behalf of by,
// an admin, who becomes its owner (integrations.user_id). An integration
// for the same service that the actor already owns is a CONFLICT. The
// service and status must be one line of printable text. Errors:
// VALIDATION_ERROR (empty service, config not a JSON object), UNAUTHORIZED
// (no or unknown actor), FORBIDDEN, CONFLICT, INTERNAL_ERROR.
func (s *Store) CreateOrgIntegration(ctx context.Context, by Actor, in NewOrgIntegration) (db.Integration, error) {
	service := strings.TrimSpace(in.Service)
	if service == "" {
		return db.Integration{}, orgdb.Validation("integration service is required").WithDetails("field", "service")
	}
	config, err := jsonObject(in.Config)
	if err != nil {
		return db.Integration{}, err
	}
	status := in.Status
	if status == "" {
		status = "pending"
	}
	if err := checkTexts("service", service, "status", status); err != nil {
		return db.Integration{}, err
	}
	return writeTx(ctx, s, by, AdminOnly, func(t wtx) (db.Integration, error) {
		it, err := t.q.InsertIntegration(ctx, db.InsertIntegrationParams{
			ID: orgdb.NewID(), UserID: t.actorID, Service: service, Config: config, Status: status, Scope: orgdb.ScopeOrg,
		})
		return it, Translate(err, "integration")
	})
}

// OrgIntegrationUpdate replaces an org integration's config, status and
// error message.
type OrgIntegrationUpdate struct {
	Config       string
	Status       string
	ErrorMessage *string
}

// UpdateOrgIntegration updates an org-scoped integration on behalf of by,
// an admin. A user-scoped or missing integration is NOT_FOUND. Errors:
// VALIDATION_ERROR, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, INTERNAL_ERROR.
func (s *Store) UpdateOrgIntegration(ctx context.Context, by Actor, id string, in OrgIntegrationUpdate) (db.Integration, error) {
	if err := requireID("integration id", id); err != nil {
		return db.Integration{}, err
	}
	config, err := jsonObject(in.Config)
	if err != nil {
		return db.Integration{}, err
	}
	if strings.TrimSpace(in.Status) == "" {
		return db.Integration{}, orgdb.Validation("integration status is required").WithDetails("field", "status")
	}
	if err := checkTexts("status", in.Status); err != nil {
		return db.Integration{}, err
	}
	return writeTx(ctx, s, by, AdminOnly, func(t wtx) (db.Integration, error) {
		it, err := t.q.UpdateOrgIntegration(ctx, db.UpdateOrgIntegrationParams{
			Config: config, Status: in.Status, ErrorMessage: in.ErrorMessage, UpdatedAt: t.now, ID: id,
		})
		return it, Translate(err, "org integration")
	})
}

// DeleteOrgIntegration deletes an org-scoped integration on behalf of by,
// an admin. A user-scoped or missing integration is NOT_FOUND. Errors:
// VALIDATION_ERROR, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, INTERNAL_ERROR.
func (s *Store) DeleteOrgIntegration(ctx context.Context, by Actor, id string) error {
	if err := requireID("integration id", id); err != nil {
		return err
	}
	_, err := writeTx(ctx, s, by, AdminOnly, func(t wtx) (struct{}, error) {
		n, err := t.q.DeleteOrgIntegration(ctx, id)
		if err != nil {
			return struct{}{}, Translate(err, "org integration")
		}
		if n == 0 {
			return struct{}{}, orgdb.NotFound("org integration not found")
		}
		return struct{}{}, nil
	})
	return err
}

// jsonObject validates an integration config: a JSON object, {} if empty.
func jsonObject(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "{}", nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		return "", orgdb.Validation("integration config must be a JSON object").WithDetails("field", "config")
	}
	return s, nil
}
