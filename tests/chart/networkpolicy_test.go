package chart

// NetworkPolicies: an evaluator of the rendered policies and the flows they must allow and deny.

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

// flowAllowed evaluates the rendered NetworkPolicies for a connection between two pods of
// the release namespace (the only peers the chart names besides namespaces and CIDRs).
func flowAllowed(pols []*networkingv1.NetworkPolicy, src, dst map[string]string, port int32) bool {
	selects := func(sel metav1.LabelSelector, l map[string]string) bool {
		s, err := metav1.LabelSelectorAsSelector(&sel)
		return err == nil && s.Matches(labels.Set(l))
	}
	hasType := func(p *networkingv1.NetworkPolicy, ty networkingv1.PolicyType) bool {
		for _, x := range p.Spec.PolicyTypes {
			if x == ty {
				return true
			}
		}
		return false
	}
	peerMatches := func(peers []networkingv1.NetworkPolicyPeer, l map[string]string) bool {
		if len(peers) == 0 {
			return true
		}
		for _, peer := range peers {
			// Same-namespace pod peers only: namespaceSelector/ipBlock peers are other places.
			if peer.PodSelector != nil && peer.NamespaceSelector == nil && peer.IPBlock == nil && selects(*peer.PodSelector, l) {
				return true
			}
		}
		return false
	}
	portMatches := func(ports []networkingv1.NetworkPolicyPort) bool {
		if len(ports) == 0 {
			return true
		}
		for _, p := range ports {
			if (p.Protocol == nil || *p.Protocol == corev1.ProtocolTCP) && (p.Port == nil || p.Port.IntValue() == int(port)) {
				return true
			}
		}
		return false
	}
	// Egress from src: allowed when no policy selects it for egress, or some rule allows.
	egressOK, egressIsolated := false, false
	ingressOK, ingressIsolated := false, false
	for _, p := range pols {
		if hasType(p, networkingv1.PolicyTypeEgress) && selects(p.Spec.PodSelector, src) {
			egressIsolated = true
			for _, rule := range p.Spec.Egress {
				if peerMatches(rule.To, dst) && portMatches(rule.Ports) {
					egressOK = true
				}
			}
		}
		if hasType(p, networkingv1.PolicyTypeIngress) && selects(p.Spec.PodSelector, dst) {
			ingressIsolated = true
			for _, rule := range p.Spec.Ingress {
				if peerMatches(rule.From, src) && portMatches(rule.Ports) {
					ingressOK = true
				}
			}
		}
	}
	return (!egressIsolated || egressOK) && (!ingressIsolated || ingressOK)
}

func TestChartNetworkPolicies(t *testing.T) {
	for _, sc := range scenarios(t) {
		r := fixture.Render(t, sc.values)
		var pols []*networkingv1.NetworkPolicy
		for _, m := range r.ByKind("NetworkPolicy") {
			pols = append(pols, m.Obj.(*networkingv1.NetworkPolicy))
		}
		pods := podTemplates(r)

		// A default deny (both directions, no rules) that selects every pod of the release.
		var deny *networkingv1.NetworkPolicy
		for _, p := range pols {
			if len(p.Spec.Ingress) == 0 && len(p.Spec.Egress) == 0 && len(p.Spec.PolicyTypes) == 2 {
				deny = p
			}
		}
		require.NotNil(t, deny, "%s: no default-deny NetworkPolicy", sc.name)
		denySel, _ := metav1.LabelSelectorAsSelector(&deny.Spec.PodSelector)
		for _, p := range pods {
			assert.True(t, denySel.Matches(labels.Set(p.meta.Labels)), "%s: default deny does not select %s", sc.name, p.what)
			// Every pod has an ingress and an egress policy (kube-score's requirement too).
			var in, out bool
			for _, pol := range pols {
				s, _ := metav1.LabelSelectorAsSelector(&pol.Spec.PodSelector)
				if !s.Matches(labels.Set(p.meta.Labels)) {
					continue
				}
				for _, ty := range pol.Spec.PolicyTypes {
					in = in || ty == networkingv1.PolicyTypeIngress
					out = out || ty == networkingv1.PolicyTypeEgress
				}
			}
			assert.True(t, in && out, "%s: %s lacks an ingress or egress NetworkPolicy", sc.name, p.what)
		}
		// Every policy selects at least one pod.
		for _, pol := range pols {
			s, _ := metav1.LabelSelectorAsSelector(&pol.Spec.PodSelector)
			any := false
			for _, p := range pods {
				any = any || s.Matches(labels.Set(p.meta.Labels))
			}
			assert.True(t, any, "%s: NetworkPolicy %s selects no pod", sc.name, pol.Name)
		}

		// The flows the app needs, and a few it must not have.
		podLabels := map[string]map[string]string{}
		for _, p := range pods {
			podLabels[p.meta.Labels["app.kubernetes.io/component"]] = p.meta.Labels
		}
		pgEnabled := fixture.Coalesced(t, sc.values)["postgresql"].(map[string]any)["enabled"].(bool)
		type flow struct {
			src, dst string
			port     int32
			allowed  bool
		}
		flows := []flow{
			{"frontend", "backend", 8080, true},
			{"test", "backend", 8080, true},
			{"test", "frontend", 8080, true},
			{"backend", "frontend", 8080, false},
			{"frontend", "backend", 5432, false},
		}
		if pgEnabled {
			flows = append(flows,
				flow{"backend", "postgresql", 5432, true},
				flow{"frontend", "postgresql", 5432, false},
				flow{"test", "postgresql", 5432, false},
				flow{"postgresql", "backend", 8080, false},
			)
		}
		for _, f := range flows {
			if !assert.True(t, podLabels[f.src] != nil && podLabels[f.dst] != nil, "%s: no %s or %s pod rendered", sc.name, f.src, f.dst) {
				continue
			}
			assert.Equal(t, f.allowed, flowAllowed(pols, podLabels[f.src], podLabels[f.dst], f.port),
				"%s: is %s -> %s:%d allowed", sc.name, f.src, f.dst, f.port)
		}

		// Egress beyond the namespace: DNS for all, the ingress controller in, LLM only with openai.
		llm := fixture.Coalesced(t, sc.values)["llm"].(map[string]any)["provider"] == "openai"
		var dns, controller, llmEgress bool
		for _, pol := range pols {
			for _, rule := range pol.Spec.Egress {
				for _, p := range rule.Ports {
					if p.Port != nil && p.Port.IntValue() == 53 && len(rule.To) > 0 && rule.To[0].NamespaceSelector != nil {
						dns = true
					}
					if p.Port != nil && p.Port.IntValue() == 443 {
						llmEgress = true
					}
				}
			}
			for _, rule := range pol.Spec.Ingress {
				for _, peer := range rule.From {
					if peer.NamespaceSelector != nil && peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == "ingress-nginx" {
						controller = true
					}
				}
			}
		}
		assert.True(t, dns && controller, "%s: DNS egress (%v) or ingress-controller ingress (%v) missing", sc.name, dns, controller)
		assert.Equal(t, llm, llmEgress, "%s: LLM egress rendered only with provider openai", sc.name)
	}
	// Switched off: no policies at all.
	r := fixture.Render(t, fixture.Merge(fixture.ProgramValues(t, "dev"), map[string]any{"networkPolicy": map[string]any{"enabled": false}}))
	assert.Empty(t, r.ByKind("NetworkPolicy"), "networkPolicy.enabled=false rendered NetworkPolicies")
}
