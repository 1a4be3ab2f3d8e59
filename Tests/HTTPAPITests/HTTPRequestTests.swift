// HTTPRequest's readings of the query and path, in-process: booleans are exactly true or false,
// an argument given twice is refused, path numbers out of range name nothing (404), and a 503
// tells the client when to retry.
import ControlPlane
import HTTPAPI
import JSON
import Log
import Testing

@Suite struct HTTPRequestTests {
    func request(_ query: [(String, String)]) -> HTTPRequest { HTTPRequest(method: "GET", path: "/x", query: query) }

    @Test func queryBooleansAreExactlyTrueOrFalse() throws {
        #expect(try request([]).boolQuery("force") == false)
        #expect(try request([("force", "true")]).boolQuery("force") == true)
        #expect(try request([("force", "false")]).boolQuery("force") == false)
        for bad in ["", "null", "1", "TRUE", "yes"] {
            #expect(throws: Problem.self, "force=\(bad)") { _ = try request([("force", bad)]).boolQuery("force") }
        }
        #expect(throws: Problem.self) { _ = try request([("force", "true"), ("force", "true")]).boolQuery("force") }
    }

    @Test func queryIntegersAreInRangeAndGivenOnce() throws {
        #expect(try request([("port", "7")]).intQuery("port", in: 0...10) == 7)
        #expect(try request([]).intQuery("port", in: 0...10) == nil)
        for query in [[("port", "")], [("port", "11")], [("port", "x")], [("port", "1"), ("port", "2")]] {
            do {
                _ = try request(query).intQuery("port", in: 0...10)
                Issue.record("\(query) was accepted")
            } catch {
                #expect(error.status == 400 && error.code == .invalidField)
            }
        }
    }

    @Test func pathNumbersOutOfRangeNameNothing() throws {
        var request = HTTPRequest(method: "GET", path: "/v1/switches/a/vlans/4095")
        request.parameters = ["vid": "4095"]
        do {
            _ = try request.intParameter("vid", in: 1...4094, kind: "VLAN")
            Issue.record("vid 4095 was accepted")
        } catch {
            #expect(error.status == 404)
        }
    }

    @Test func workerUnavailableCarriesRetryAfter() {
        let problem = Problem.from(ControlPlaneError.workerUnavailable(name: "s1", reason: "its worker is restarting"), requestID: "t",
                                   log: Log(label: "test"))
        let response = problem.response(path: "/v1/switches/s1/macs", requestID: "t")
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "1")
    }

    @Test func unprocessableFieldsNameTheField() throws {
        let problem = Problem.from(ControlPlaneError.unprocessableField(path: "interfaces[0].switch", message: "there is no switch named x"),
                                   requestID: "t", log: Log(label: "test"))
        let body = try JSON.parse(problem.response(path: "/v1/stacks", requestID: "t").body)
        #expect(body["status"] == 422 && body["code"] == "unprocessable" && body["field"] == "interfaces[0].switch")
    }
}
