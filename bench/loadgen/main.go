// Command loadgen drives the decisions benchmark (bench/decisions_http.py): n clients, each posting
// one decision after another for a fixed time over keep-alive connections, and prints what it
// measured as one JSON object. Go's standard library only, so that the load generator costs the two
// cores as little as possible and the figures are the servers', not the client's.
//
//	loadgen -url http://127.0.0.1:8000/v1/institutions -clients 10 -seconds 10 -token T -body body.json -ids ids.txt
//
// The body file is a JSON template; every "__KEY__" in it becomes the request's own key, which is
// also its Idempotency-Key. The ids file gets the institution_id of every 201 answer, one a line.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

type result struct {
	Decisions int            `json:"decisions"`
	Seconds   float64        `json:"seconds"`
	P50Ms     float64        `json:"p50_ms"`
	P99Ms     float64        `json:"p99_ms"`
	Errors    map[string]int `json:"errors"`
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted)-1) + 0.5)
	return sorted[i]
}

func main() {
	url := flag.String("url", "", "where to POST")
	clients := flag.Int("clients", 1, "concurrent clients")
	seconds := flag.Float64("seconds", 10, "how long")
	token := flag.String("token", "", "bearer token")
	bodyFile := flag.String("body", "", "JSON template with __KEY__")
	idsFile := flag.String("ids", "", "file for the acknowledged institution ids")
	flag.Parse()
	template, err := os.ReadFile(*bodyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	transport := &http.Transport{MaxIdleConns: *clients, MaxIdleConnsPerHost: *clients, MaxConnsPerHost: *clients, IdleConnTimeout: 90 * time.Second}
	client := &http.Client{Transport: transport, Timeout: 60 * time.Second}
	until := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	run := time.Now().UnixNano()

	var mu sync.Mutex
	var latencies []float64
	var ids []string
	errors := map[string]int{}
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; time.Now().Before(until); i++ {
				key := fmt.Sprintf("lg%x-%d-%d", run, c, i)
				body := bytes.ReplaceAll(template, []byte("__KEY__"), []byte(key))
				request, _ := http.NewRequest(http.MethodPost, *url, bytes.NewReader(body))
				request.Header.Set("Content-Type", "application/json")
				request.Header.Set("Authorization", "Bearer "+*token)
				request.Header.Set("Idempotency-Key", key)
				started := time.Now()
				response, err := client.Do(request)
				if err != nil {
					mu.Lock()
					errors[strings.SplitN(err.Error(), ":", 2)[0]]++
					mu.Unlock()
					continue
				}
				answer, _ := io.ReadAll(response.Body)
				response.Body.Close()
				took := float64(time.Since(started).Microseconds()) / 1000
				mu.Lock()
				if response.StatusCode == http.StatusCreated {
					latencies = append(latencies, took)
					var decided struct {
						InstitutionID string `json:"institution_id"`
					}
					if json.Unmarshal(answer, &decided) == nil {
						ids = append(ids, decided.InstitutionID)
					}
				} else {
					errors[fmt.Sprintf("POST %d", response.StatusCode)]++
				}
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	sort.Float64s(latencies)
	if *idsFile != "" {
		if err := os.WriteFile(*idsFile, []byte(strings.Join(ids, "\n")), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	out, _ := json.Marshal(result{len(latencies), *seconds, percentile(latencies, 50), percentile(latencies, 99), errors})
	fmt.Println(string(out))
}
